"""What residents owe and how they can pay (issue in progress: rules only so far)."""

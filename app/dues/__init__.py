"""What residents owe: cost items and each home's share so far (pages, payments and funds to come)."""

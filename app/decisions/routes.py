"""Decision pages (added below)."""

"""Staff pages for dues: items, pending payments, statements, funds, public income."""

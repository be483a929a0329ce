"""Booking pages (below)."""

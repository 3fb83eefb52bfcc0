"""The demo portfolio."""

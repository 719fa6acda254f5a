"""Tasks pages."""

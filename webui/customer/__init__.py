"""Customer pages."""

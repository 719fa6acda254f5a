"""Customers of the service domain."""

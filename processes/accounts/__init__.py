"""Accounts of the service domain."""

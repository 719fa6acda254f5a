"""Tickets of the service domain."""

"""Dispatch of the service domain."""

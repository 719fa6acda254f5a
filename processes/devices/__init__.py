"""Devices of the service domain."""

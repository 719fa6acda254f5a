"""Engineers of the service domain."""

"""The incidents page: stopped instances, for process owners and administrators (issue 8 §3)."""

"""Plain-Python task handlers called by the process layer (no Flask, no database)."""

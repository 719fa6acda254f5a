"""Diagrams drawn by other tools, brought into the process editor as drafts (issue 12, conformance)."""

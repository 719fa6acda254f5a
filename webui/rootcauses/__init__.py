"""Supervisors' pages for the root-cause library, prevention suggestions and checklists."""

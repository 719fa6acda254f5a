"""Auditors' screens (issue 13 part A): a ticket replayed step by step, and the log of what auditors looked at."""

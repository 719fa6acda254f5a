"""Measures from what happened to tickets (brief M1–M3): live and imported history alike."""

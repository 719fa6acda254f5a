"""Tickets pages."""

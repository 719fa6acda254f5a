"""Notifications: an outbox of messages to people, rendered in each recipient's language."""

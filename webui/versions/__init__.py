"""Versions, migration of running tickets and the impact preview (issue 12 §2 and §3), for owners and admins."""

from .blueprint import versions

__all__ = ["versions"]

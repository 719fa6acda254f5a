"""Request-scoped access to the platform and a unit of work per request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy.orm import Session

from processes.platform import Platform


def platform() -> Platform:
    return current_app.extensions["closeloop"]


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One transaction: committed when the block ends normally, rolled back on any exception."""
    with platform().db.session() as session:
        yield session

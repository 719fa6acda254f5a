"""Request-scoped access to the platform and the request's one unit of work.

Every request has at most one database session, opened on first use (:func:`db`).  It is committed
once the view has produced its response and rolled back when the view (or a gate before it) raises,
so a refused request writes nothing; after-commit callbacks (jobs to enqueue, see
``engine.db.after_commit``) run on that commit as before.  Views never open sessions themselves.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from processes.platform import Platform

_KEY = "db_session"


def platform() -> Platform:
    return current_app.extensions["closeloop"]


def db() -> Session:
    """The request's session, opened on first use and ended by the app (commit, or rollback on error)."""
    session = g.get(_KEY)
    if session is None:
        session = platform().db.sessionmaker()
        setattr(g, _KEY, session)
    return session


def rollback() -> None:
    """Undo what the request wrote so far; the session stays usable (to render a refused form again)."""
    session = g.get(_KEY)
    if session is not None:
        session.rollback()


def init_app(app: Flask) -> None:
    @app.after_request
    def _commit(response: Any) -> Any:
        session = g.pop(_KEY, None)
        if session is not None:
            try:
                session.commit()
            finally:
                session.close()
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        session = g.pop(_KEY, None)
        if session is not None:  # the response was never finished: nothing of it may stay
            session.rollback()
            session.close()

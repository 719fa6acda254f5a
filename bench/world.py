"""The world a benchmark runs in: a fresh, migrated database and a platform with the demo plant.

Every figure in ``bench/README.md`` says on what data it holds; these are the two ways our benchmarks
get that data, kept in one place so that each says the same thing (SQLite file under ``var/bench/…``
unless ``DATABASE_URL`` names a server, whose schema is emptied first; embedded Redis unless
``REDIS_URL`` is set; the plant clock at 2026-11-25 09:30 Shanghai like the tests').
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from engine.clock import FrozenClock
from processes import demo
from processes.platform import Platform, Settings, build_platform
from webui.cli import upgrade_database

TEST_CLOCK = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)


def fresh_database(var: Path, name: str) -> str:
    """A migrated, empty database: ``var/<name>.db`` (recreated) or ``DATABASE_URL`` with its schema reset."""
    var.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{var / f'{name}.db'}"
    reset_database(url)
    return url


def reset_database(url: str) -> None:
    """Empty the database at ``url`` (a SQLite file is deleted, a server's schema dropped) and migrate it."""
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade_database(url)


def settings_for(url: str, var: Path, secret: str = "bench") -> Settings:
    return Settings(database_url=url, redis_url=os.environ.get("REDIS_URL") or None, var_dir=var, secret_key=secret)


@contextmanager
def demo_platform(var: Path, name: str) -> Iterator[Platform]:
    """A platform on a fresh database with the shipped diagrams deployed and the demo plant loaded.

    The in-process rq worker logs every job to stdout unless its logger has a handler: stdout is for
    the benchmark's JSON line, so warnings go to stderr."""
    worker_log = logging.getLogger("rq.worker")
    if not worker_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.WARNING)
        worker_log.addHandler(handler)
    platform = build_platform(
        settings_for(fresh_database(var, name), var, f"bench-{name}"), clock=FrozenClock(TEST_CLOCK)
    )
    try:
        platform.redis.flushdb()
        platform.deploy_models("bench")
        with platform.db.session() as session:
            demo.load(session)
        yield platform
    finally:
        platform.db.dispose()

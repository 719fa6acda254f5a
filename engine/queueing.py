"""How the engine hands work to its queue: after commit, and never failing a committed step."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from .faults import crash_point

log = logging.getLogger(__name__)

JobArg = int | str


class JobQueue(Protocol):
    """What the engine needs of a queue (``engine.jobs.RqJobQueue`` in production, a list in tests)."""

    def enqueue(self, job: str, *args: JobArg, at: datetime | None = None) -> None: ...


class Enqueuer:
    """Enqueues the engine's jobs (``advance``, ``run_handler``, ``feed_result``) on an optional queue.

    Without a queue (tests, the CLI's one-off commands) nothing is enqueued: the database holds every
    pending thing and a worker's sweep finds it.  If the queue fails the step still stands, for the
    same reason.
    """

    def __init__(self, queue: JobQueue | None) -> None:
        self.queue = queue

    def enqueue(self, job: str, *args: JobArg, at: datetime | None = None) -> None:
        if self.queue is None:
            return
        crash_point("before_enqueue")
        try:
            self.queue.enqueue(job, *args, at=at)
        except Exception as err:  # the database already holds the truth; never fail a committed step
            log.warning("could not enqueue %s%s: %s (the sweeper will pick it up)", job, args, err)

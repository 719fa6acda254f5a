"""rq job entry points, the queue adapter, and the worker that hands each job its context.

rq imports a job's function by dotted path in the worker process, so the entry points are module
functions.  They reach the engine through an explicit :class:`JobContext` passed as their first
argument, never through a module global: the worker entry point (``closeloop worker``, a test, the
crash worker) builds its platform once in the composition root and constructs a
:class:`ContextWorker` with it; the worker hands that context to every job it performs
(:class:`ContextJob`).  Why this shape rather than a global installed at start-up: nothing is set as a
side effect of building a platform, two platforms can live in one process (tests), and a job run by
a worker without a context fails loudly instead of running against whatever was installed last.

Every job is idempotent: running one twice changes nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from redis import Redis
from rq import Queue, Retry, SimpleWorker
from rq.executions import Execution
from rq.job import Job

from .queueing import JobArg

if TYPE_CHECKING:
    from .runtime import ProcessEngine

QUEUE_NAME = "closeloop"
# Backoff for handler failures that may pass later (a CRM down for a minute, a full disk).
RETRY = Retry(max=4, interval=[2, 10, 60, 300])


class JobContext(Protocol):
    """What a job needs from the process running it: the engine (a platform has more for its own jobs)."""

    @property
    def engine(self) -> ProcessEngine: ...


class EngineContext:
    """The smallest context: just an engine (the crash worker, engine tests)."""

    def __init__(self, engine: ProcessEngine) -> None:
        self._engine = engine

    @property
    def engine(self) -> ProcessEngine:
        return self._engine


def advance(ctx: JobContext, instance_id: int) -> bool:
    return ctx.engine.advance(instance_id)


def run_handler(ctx: JobContext, call_id: int) -> None:
    ctx.engine.run_handler_call(call_id)


def feed_result(ctx: JobContext, call_id: int) -> bool:
    return ctx.engine.feed_result(call_id)


class ContextJob(Job):
    """A job whose function receives the worker's context as its first argument."""

    context: object | None = None

    def _execute(self) -> object:
        if self.context is None:
            raise RuntimeError(f"job {self.func_name} needs a context: run it with engine.jobs.ContextWorker")
        if not self.func:
            raise ValueError("Cannot execute job: function is None")
        result = self.func(self.context, *self.args, **self.kwargs)
        if asyncio.iscoroutine(result):
            return asyncio.run(result)
        return result


class ContextWorker(SimpleWorker):
    """rq's SimpleWorker (jobs run in this process, nothing forked) that hands every job ``context``."""

    def __init__(self, queues: Sequence[str], *, connection: Redis, context: JobContext) -> None:
        super().__init__(queues, connection=connection, job_class=ContextJob)
        self.context = context

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        if isinstance(job, ContextJob):
            job.context = self.context
        return super().perform_job(job, queue, execution)


class RqJobQueue:
    """The engine's job queue on rq; ``at`` uses rq's own scheduler."""

    def __init__(self, connection: Redis, name: str = QUEUE_NAME) -> None:
        self.queue = Queue(name, connection=connection)

    def enqueue_call(self, path: str, *args: JobArg, job_id: str | None = None) -> None:
        """Enqueue a job of another layer by dotted path (the engine itself never imports it); like the
        engine's own, it receives the worker's context first."""
        self.queue.enqueue(path, *args, job_id=job_id, job_timeout=600)

    def enqueue(self, job: str, *args: JobArg, at: datetime | None = None) -> None:
        path = f"{__name__}.{job}"
        retry = RETRY if job == "run_handler" else None
        if at is None:
            self.queue.enqueue(path, *args, retry=retry, job_timeout=600)
        else:
            self.queue.enqueue_at(at, path, *args, retry=retry, job_timeout=600)

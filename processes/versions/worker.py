"""The owner jobs' rq entry point and how a request queues one (after its transaction commits)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from engine.db import after_commit

from . import jobs as owner_jobs

if TYPE_CHECKING:
    from ..platform import Platform

PATH = "processes.versions.worker.run_owner_job"


def enqueue(session: Session, queue: Any, job_id: int) -> None:
    """Queue the job once the request's transaction has committed (the worker must find its row)."""
    if queue is not None:
        after_commit(session, partial(queue.enqueue_call, PATH, job_id))


def run_owner_job(platform: Platform, job_id: int) -> None:
    """Run an impact preview or a bulk migration (the row says which), with the worker's platform."""
    from ..impact import service as impact
    from . import service

    with platform.db.session() as session:
        kind = owner_jobs.get(session, job_id).kind
    if kind == impact.JOB_KIND:
        impact.run_job(platform.db.session, platform.engine, job_id)
    else:
        service.run_migration_job(platform.db.session, platform.engine, job_id)

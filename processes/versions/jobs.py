"""Owner jobs: record, run with progress, read (the impact preview and bulk migration share them).

Progress is written in its own short transactions so the page's poll sees it while the work goes on;
a job that raises is marked failed with the error, never left "running".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound
from .models import OwnerJob

Work = Callable[[dict[str, Any], Callable[[int, int], None]], dict[str, Any]]


def create(session: Session, kind: str, process_id: str, actor: str, params: dict[str, Any], now: datetime) -> int:
    job = OwnerJob(
        kind=kind,
        process_id=process_id,
        requested_by=actor,
        status="queued",
        done=0,
        total=0,
        params=params,
        result=None,
        error=None,
        created_at=now,
        finished_at=None,
    )
    session.add(job)
    session.flush()
    return job.id


def get(session: Session, job_id: int, kind: str | None = None) -> OwnerJob:
    job = session.get(OwnerJob, job_id)
    if job is None or (kind is not None and job.kind != kind):
        raise NotFound("job_not_found", id=job_id)
    return job


def latest(session: Session, kind: str, process_id: str, limit: int = 10) -> list[OwnerJob]:
    return list(
        session.scalars(
            select(OwnerJob)
            .where(OwnerJob.kind == kind, OwnerJob.process_id == process_id)
            .order_by(OwnerJob.id.desc())
            .limit(limit)
        )
    )


def run(session_factory: Any, job_id: int, work: Work) -> None:
    """Run ``work(params, progress)`` for the job, keeping its row up to date."""
    with session_factory() as session:
        job = get(session, job_id)
        if job.status not in ("queued", "running"):
            return  # a duplicate delivery of a finished job
        job.status = "running"
        params = dict(job.params)

    def progress(done: int, total: int) -> None:
        with session_factory() as session:
            row = get(session, job_id)
            row.done, row.total = done, total

    try:
        result = work(params, progress)
    except Exception as err:
        with session_factory() as session:
            row = get(session, job_id)
            row.status, row.error, row.finished_at = "failed", f"{type(err).__name__}: {err}"[:2000], _now()
        raise
    with session_factory() as session:
        row = get(session, job_id)
        row.status, row.result, row.finished_at = "done", result, _now()
        row.done = max(row.done, row.total)


def _now() -> datetime:
    return datetime.now(UTC)

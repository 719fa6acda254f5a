"""Finds work whose job was lost and enqueues it again, from the database alone.

Redis may lose its data, a worker may be killed between commit and enqueue, a scheduled wake-up may
vanish.  None of that loses work, because every pending thing is a row: a due timer, an instance
marked ``needs_advance``, a handler call still pending or running past its lease, an incident whose
automatic retry is due.  Enqueuing twice is harmless: every job is idempotent.

An instance stopped on an incident (status ``error``) is never re-queued by the sweep: it waits for
its incident's next automatic retry or for a person, so a broken diagram fails a bounded number of
times instead of once per sweep forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select

from . import checkpoints
from .models import STOPPED, HandlerCall, Incident, ProcessInstance, Timer

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from .runtime import ProcessEngine


@dataclass(frozen=True)
class Timing:
    """How the engine waits for lost work; passed in by the composition root (Settings), never read at import.

    ``grace``: work younger than this is probably still in a queue; older work is presumed lost.
    ``lease``: a running handler call whose heartbeat stopped for this long belonged to a dead worker.
    ``heartbeat``: how often the worker running a handler renews its lease (well under ``lease``).
    ``retry_backoff``: the automatic retries of an incident, seconds after its 1st, 2nd, 3rd failure;
    after the last one the instance waits for a person.
    ``checkpoint_key`` / ``checkpoint_every``: a full sweep signs a checkpoint of the journal heads
    (:mod:`engine.checkpoints`) with the key in that file when the latest is older; no key, no signing.
    ``other_sweeps``: recoveries of other layers' durable work (a domain's outbox), run by every full sweep
    with the engine's clock so one worker loop recovers everything; the engine knows nothing of what they do.
    """

    grace: timedelta = timedelta(seconds=20)
    lease: timedelta = timedelta(seconds=30)
    heartbeat: timedelta = timedelta(seconds=10)
    retry_backoff: tuple[int, ...] = (10, 60, 300)
    other_sweeps: tuple[Callable[[datetime], dict[str, int]], ...] = ()
    checkpoint_key: Path | None = None
    checkpoint_every: timedelta = timedelta(hours=1)


def sweep(engine: ProcessEngine, *, timers_only: bool = False) -> dict[str, int]:
    """Enqueue what is due or stuck.  ``timers_only`` is the cheap, frequent variant (one indexed query)
    that keeps timers on time even when rq's scheduler, which polls once a second, is slow or gone."""
    now = engine.clock.now()
    grace = engine.timing.grace
    stale: set[int] = set()
    calls: list[int] = []
    retries: list[int] = []
    with engine.db.session() as session:
        due = set(
            session.scalars(
                select(Timer.instance_id)
                .join(ProcessInstance)
                .where(Timer.fired_at.is_(None), Timer.due_at <= now, ProcessInstance.status.not_in(STOPPED))
            )
        )
        if not timers_only:
            stale = set(
                session.scalars(
                    select(ProcessInstance.id).where(
                        ProcessInstance.needs_advance.is_(True),
                        ProcessInstance.updated_at <= now - grace,
                        ProcessInstance.status.not_in(STOPPED),
                    )
                )
            )
            calls = list(
                session.scalars(
                    select(HandlerCall.id)
                    .join(ProcessInstance)
                    .where(
                        ProcessInstance.status.not_in(STOPPED),
                        or_(
                            (HandlerCall.status == "pending") & (HandlerCall.created_at <= now - grace),
                            (HandlerCall.status == "running")
                            & (func.coalesce(HandlerCall.lease_until, HandlerCall.started_at) <= now),
                            HandlerCall.status == "done",
                        ),
                    )
                )
            )
            retries = list(
                session.scalars(select(Incident.id).where(Incident.status == "open", Incident.next_retry_at <= now))
            )
    for instance_id in sorted(due | stale):
        engine.enqueue("advance", instance_id)
    for call_id in calls:
        engine.enqueue("run_handler", call_id)
    resumed = sum(engine.retry_incident_automatically(incident_id) for incident_id in retries)
    if not timers_only and engine.timing.checkpoint_key is not None:
        try:
            checkpoints.take_if_due(engine.db, engine.timing.checkpoint_key, now, engine.timing.checkpoint_every)
        except Exception:  # the recovery above already happened; the next sweep tries the checkpoint again
            log.exception("could not take a journal checkpoint")
    report = {
        "timers_due": len(due),
        "stale_instances": len(stale),
        "handler_calls": len(calls),
        "incident_retries": resumed,
    }
    if not timers_only:
        for other in engine.timing.other_sweeps:
            try:
                report.update(other(now))
            except Exception:  # the engine's own recovery happened; the next sweep tries the other again
                log.exception("a sweep of another layer failed")
    return report

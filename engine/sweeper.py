"""Finds work whose job was lost and enqueues it again, from the database alone.

Redis may lose its data, a worker may be killed between commit and enqueue, a scheduled wake-up may
vanish.  None of that loses work, because every pending thing is a row: a due timer, an instance
marked ``needs_advance``, a handler call still pending or running past its timeout.  Enqueuing twice
is harmless: every job is idempotent.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from .models import STOPPED, HandlerCall, ProcessInstance, Timer

if TYPE_CHECKING:
    from .runtime import ProcessEngine
# Work younger than this is probably still in a queue; older work is presumed lost.
GRACE = timedelta(seconds=float(os.environ.get("CLOSELOOP_SWEEP_GRACE_S", 20)))
# A handler call "running" longer than this belonged to a worker that died.
HANDLER_TIMEOUT = timedelta(seconds=float(os.environ.get("CLOSELOOP_HANDLER_TIMEOUT_S", 900)))


def sweep(engine: ProcessEngine, *, timers_only: bool = False) -> dict[str, int]:
    """Enqueue what is due or stuck.  ``timers_only`` is the cheap, frequent variant (one indexed query)
    that keeps timers on time even when rq's scheduler, which polls once a second, is slow or gone."""
    now = engine.clock.now()
    stale: set[int] = set()
    calls: list[int] = []
    with engine.db.session() as session:
        due = set(session.scalars(select(Timer.instance_id).join(ProcessInstance).where(
            Timer.fired_at.is_(None), Timer.due_at <= now, ProcessInstance.status.not_in(STOPPED))))
        if not timers_only:
            stale = set(session.scalars(select(ProcessInstance.id).where(
                ProcessInstance.needs_advance.is_(True), ProcessInstance.updated_at <= now - GRACE)))
            calls = list(session.scalars(select(HandlerCall.id).where(or_(
                (HandlerCall.status == "pending") & (HandlerCall.created_at <= now - GRACE),
                (HandlerCall.status == "running") & (HandlerCall.started_at <= now - HANDLER_TIMEOUT),
                HandlerCall.status == "done",
            ))))
    for instance_id in sorted(due | stale):
        engine._enqueue("advance", instance_id)
    for call_id in calls:
        engine._enqueue("run_handler", call_id)
    return {"timers_due": len(due), "stale_instances": len(stale), "handler_calls": len(calls)}

"""Slow handlers: run as rq jobs outside the instance lock, then their result is fed back in a step.

A call is a row keyed by the service task's id.  Running it marks it ``running``; its side effects
and its result commit together (``done``); feeding the result completes the waiting task (``fed``).
A worker killed at any point leaves a row the sweeper picks up again, and every stage is safe to
repeat, so a call's effect happens once.

A running call is *leased* to its worker: ``lease_until`` is renewed every ``timing.heartbeat`` by a
thread of the worker while the handler runs, so a call whose worker was killed is free again after
``timing.lease`` (30 s), not after a fixed timeout of many minutes, and a slow but living handler is
never taken away from its worker.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update

from . import persistence, transitions
from .clock import Clock
from .db import Database, after_commit
from .failures import Incidents
from .faults import crash_point
from .handlers import HandlerContext, HandlerRegistry
from .journal import data_changes
from .models import EngineTask, HandlerCall, ProcessInstance
from .queueing import Enqueuer
from .scripting import HandlerFailed
from .steps import StepRunner
from .sweeper import Timing

log = logging.getLogger(__name__)


def worker_id() -> str:
    """Who holds a lease: host and process, enough for an operator to find the worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


class HandlerCalls:
    """Runs deferred handler calls (``runs="job"``) and feeds their results back in a step."""

    def __init__(
        self,
        db: Database,
        registry: HandlerRegistry,
        clock: Clock,
        steps: StepRunner,
        incidents: Incidents,
        enqueuer: Enqueuer,
        timing: Timing,
        max_attempts: int = 5,
    ) -> None:
        self.db = db
        self.registry = registry
        self.clock = clock
        self.steps = steps
        self.incidents = incidents
        self.enqueuer = enqueuer
        self.timing = timing
        self.max_attempts = max_attempts

    def run(self, call_id: int) -> None:
        """Run a deferred handler outside the instance lock, store its result, then feed it back."""
        with self.db.session() as session:
            call = session.scalar(select(HandlerCall).where(HandlerCall.id == call_id).with_for_update())
            if call is None or call.status in ("done", "fed", "failed", "skipped"):
                if call is not None and call.status == "done":
                    after_commit(session, lambda: self.enqueuer.enqueue("feed_result", call_id))
                return
            now = self.clock.now()
            lease_until = call.lease_until or call.started_at
            if call.status == "running" and lease_until is not None and lease_until > now:
                return  # another worker holds the lease; the sweeper reclaims it if that worker dies
            me = worker_id()
            call.status, call.worker = "running", me
            call.attempts += 1
            call.started_at = now
            call.lease_until = now + self.timing.lease
            operator, params, task_id, instance_id = call.operator, dict(call.params), call.task_id, call.instance_id
            business_key = session.scalar(select(ProcessInstance.business_key).where(ProcessInstance.id == instance_id))
            spec = session.scalar(select(EngineTask.spec_name).where(EngineTask.id == task_id)) or ""
        handler = self.registry.get(operator)
        try:
            with self._heartbeat(call_id, me), self.db.session() as session:
                result = handler.func(
                    HandlerContext(session, self.clock.now(), instance_id, business_key, task_id, spec), params
                )
                crash_point("handler_running")
                call = session.get(HandlerCall, call_id)
                assert call is not None  # the row outlives its calls (deleted only with its instance)
                call.status, call.result, call.error = "done", {"value": result}, None
                call.finished_at, call.lease_until = self.clock.now(), None
        except Exception as err:
            failure = HandlerFailed(operator, spec, err)
            with self.db.session() as session:
                call = session.get(HandlerCall, call_id)
                assert call is not None
                final = not failure.retryable or call.attempts >= self.max_attempts
                call.status, call.error = ("failed" if final else "pending"), str(failure)
                call.lease_until = None
            if final:
                # A transient failure already had rq's backoff (jobs.RETRY); a refusal gets the incident's.
                self.incidents.record_failure(
                    instance_id, failure, task_id=task_id, automatic_retries=not failure.retryable
                )
                return
            raise failure from err
        self.feed_result(call_id)

    @contextmanager
    def _heartbeat(self, call_id: int, me: str) -> Iterator[None]:
        """Renew the call's lease every ``timing.heartbeat`` while the handler runs (in a thread: the
        handler itself may block for long).  A renewal that fails (a busy database) is tried again at
        the next beat; the lease is three beats long."""
        stop = threading.Event()
        interval = self.timing.heartbeat.total_seconds()

        def beat() -> None:
            while not stop.wait(interval):
                try:
                    with self.db.session() as session:
                        session.execute(
                            update(HandlerCall)
                            .where(
                                HandlerCall.id == call_id,
                                HandlerCall.status == "running",
                                HandlerCall.worker == me,
                            )
                            .values(lease_until=self.clock.now() + self.timing.lease)
                        )
                except Exception as err:  # the next beat tries again; the handler must not fail for this
                    log.warning("could not renew the lease of handler call %s: %s", call_id, err)

        thread = threading.Thread(target=beat, name=f"lease-{call_id}", daemon=True)
        if interval > 0:
            thread.start()
        try:
            yield
        finally:
            stop.set()
            if thread.is_alive():
                thread.join(timeout=5)

    def feed_result(self, call_id: int) -> bool:
        """Complete the waiting service task with its handler's stored result, then run the engine."""
        with self.db.session() as session:
            instance_id = session.scalar(select(HandlerCall.instance_id).where(HandlerCall.id == call_id))
        if instance_id is None:
            return False
        return self.incidents.guarded(instance_id, lambda: self._feed_result(call_id))

    def _feed_result(self, call_id: int) -> bool:
        with self.db.session() as session:
            call = session.get(HandlerCall, call_id)
            if call is None or call.status != "done":
                return False
            step = self.steps.open(session, call.instance_id)
            task = persistence.find_task(step.workflow, call.task_id)
            if task is None or task.state != TaskState.STARTED:
                call.status = "fed"  # already fed by an earlier run of this job
                return False
            value = (call.result or {}).get("value")
            before = dict(task.data)
            transitions.feed_result(task, value)
            step.record(
                "service_result",
                f"handler:{call.operator}",
                task=task,
                input={"operator": call.operator, "params": call.params, "result": value},
                changes=data_changes(before, task.data),
            )
            call.status = "fed"
            self.steps.run_engine(step)
            self.steps.finish(session, step)
            return True

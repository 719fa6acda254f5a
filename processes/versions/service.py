"""Versions of a process and moving running tickets between them (issue 12 §3).

Running tickets stay on the version they started on.  An owner lists a process's versions (how many
tickets run and ran on each), retires an old one (it can never become current again nor be a
migration target: no new ticket starts on it), deletes one nothing ever ran on, and moves running
tickets to a newer version: a dry run first (:func:`dry_run`, which says per ticket whether it can move
and why not), then a job (:func:`request_migration`, :func:`run_migration_job`) that moves each ticket in
its own transaction, so one failure rolls back that ticket alone and the others carry on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.deployments import content_hash
from engine.migration import MigrationCheck, MigrationRefused, Migrations, delete_unused_deployment
from engine.models import STOPPED, Deployment, ProcessInstance
from engine.runtime import ProcessEngine

from ..errors import Conflict, FieldProblem, Invalid, NotFound
from ..tickets.models import Ticket
from . import jobs as owner_jobs
from .models import RetiredVersion

JOB_KIND = "migration"
ENDED = tuple(s for s in STOPPED if s != "error")  # an instance in error still runs (it waits for a retry)


@dataclass(frozen=True)
class VersionView:
    deployment_id: int
    number: int  # 1 = the first version of this process
    content_hash: str
    created_at: datetime
    created_by: str
    activated_at: datetime
    current: bool
    retired: bool
    running: int
    finished: int


@dataclass(frozen=True)
class DryRunRow:
    ticket: str | None
    check: MigrationCheck


def _deployments(session: Session, process_id: str) -> list[Deployment]:
    rows = session.scalars(select(Deployment).order_by(Deployment.id))
    return [row for row in rows if process_id in (row.process_ids or [])]


def _counts(session: Session, process_id: str) -> dict[tuple[int, bool], int]:
    ended = ProcessInstance.status.in_(ENDED)
    rows = session.execute(
        select(ProcessInstance.deployment_id, ended, func.count())
        .where(ProcessInstance.process_id == process_id)
        .group_by(ProcessInstance.deployment_id, ended)
    )
    return {(deployment_id, bool(done)): count for deployment_id, done, count in rows}


def retired_ids(session: Session, process_id: str) -> set[int]:
    return set(session.scalars(select(RetiredVersion.deployment_id).where(RetiredVersion.process_id == process_id)))


def versions(session: Session, engine: ProcessEngine, process_id: str) -> list[VersionView]:
    """The process's versions, newest first."""
    rows = _deployments(session, process_id)
    if not rows:
        raise NotFound("process_not_found", process=process_id)
    current = engine.deployments.current(session, process_id)
    counts = _counts(session, process_id)
    retired = retired_ids(session, process_id)
    views = [
        VersionView(
            row.id,
            number,
            row.content_hash,
            row.created_at,
            row.created_by,
            row.activated_at,
            current is not None and row.id == current.id,
            row.id in retired,
            counts.get((row.id, False), 0),
            counts.get((row.id, True), 0),
        )
        for number, row in enumerate(rows, 1)
    ]
    return list(reversed(views))


def _version(session: Session, engine: ProcessEngine, process_id: str, deployment_id: object) -> VersionView:
    for view in versions(session, engine, process_id):
        if str(view.deployment_id) == str(deployment_id).strip():
            return view
    raise Invalid("invalid_input", problems=[FieldProblem("version", "version_unknown", {"version": deployment_id})])


def retire(
    session: Session, engine: ProcessEngine, process_id: str, deployment_id: int, *, actor: str, now: datetime
) -> None:
    """Retire an old version: no ticket starts on it or moves to it again.  The current one cannot be."""
    view = _version(session, engine, process_id, deployment_id)
    if view.current:
        raise Conflict("version_is_current", field="version", number=view.number)
    if not view.retired:
        session.add(
            RetiredVersion(deployment_id=view.deployment_id, process_id=process_id, retired_by=actor, retired_at=now)
        )
        session.flush()


def delete(session: Session, engine: ProcessEngine, process_id: str, deployment_id: int) -> None:
    """Delete a version no ticket runs or ran on (their history needs their diagram); never the current."""
    view = _version(session, engine, process_id, deployment_id)
    if view.current:
        raise Conflict("version_is_current", field="version", number=view.number)
    if view.running:
        raise Conflict("version_has_running", field="version", number=view.number, count=view.running)
    if view.finished:
        raise Conflict("version_has_history", field="version", number=view.number, count=view.finished)
    session.execute(RetiredVersion.__table__.delete().where(RetiredVersion.deployment_id == view.deployment_id))
    if not delete_unused_deployment(session, view.deployment_id):
        raise Conflict("version_in_use", field="version", number=view.number)


def check_deployable(session: Session, files: dict[str, str]) -> None:
    """Refuse to deploy content that is a retired version: deploying it again would make it current and
    start new tickets on it.  Deploy paths (the editor's deploy, ``closeloop deploy``) call this first."""
    row = session.scalar(select(Deployment).where(Deployment.content_hash == content_hash(files)))
    if row is None:
        return
    retired = session.scalars(select(RetiredVersion.process_id).where(RetiredVersion.deployment_id == row.id)).all()
    if retired:
        raise Conflict("version_retired_redeploy", field="version", process=", ".join(sorted(retired)))


def _target(session: Session, engine: ProcessEngine, process_id: str, raw: object) -> VersionView:
    view = _version(session, engine, process_id, raw)
    if view.retired:
        raise Invalid("invalid_input", problems=[FieldProblem("version", "version_retired", {"number": view.number})])
    return view


def running_instances(session: Session, process_id: str, target_id: int) -> list[tuple[int, str | None]]:
    """(instance id, ticket number) of every running instance of the process not yet on the target."""
    rows = session.execute(
        select(ProcessInstance.id, Ticket.number)
        .outerjoin(Ticket, Ticket.process_instance_id == ProcessInstance.id)
        .where(
            ProcessInstance.process_id == process_id,
            ProcessInstance.status.not_in(ENDED),
            ProcessInstance.deployment_id != target_id,
        )
        .order_by(ProcessInstance.id)
    )
    return [(instance_id, number) for instance_id, number in rows]


def _selected(
    session: Session, process_id: str, target_id: int, instance_ids: Sequence[object] | None
) -> list[tuple[int, str | None]]:
    found = running_instances(session, process_id, target_id)
    if instance_ids is None:
        return found
    wanted: set[int] = set()
    for raw in instance_ids:
        text = str(raw).strip()
        if not text.isdigit():
            raise Invalid("invalid_input", problems=[FieldProblem("instances", "instance_unknown", {"id": text})])
        wanted.add(int(text))
    known = {instance_id for instance_id, _ in found}
    unknown = sorted(wanted - known)
    if unknown:
        raise Invalid("invalid_input", problems=[FieldProblem("instances", "instance_unknown", {"id": unknown[0]})])
    if not wanted:
        raise Invalid("invalid_input", problems=[FieldProblem("instances", "instances_none")])
    return [row for row in found if row[0] in wanted]


def dry_run(session: Session, engine: ProcessEngine, process_id: str, target: object) -> list[DryRunRow]:
    """Which running tickets can move to ``target`` and why the others cannot; changes nothing."""
    view = _target(session, engine, process_id, target)
    migrations = Migrations(engine)
    return [
        DryRunRow(number, migrations.check(session, instance_id, view.deployment_id))
        for instance_id, number in running_instances(session, process_id, view.deployment_id)
    ]


def request_migration(
    session: Session,
    engine: ProcessEngine,
    process_id: str,
    target: object,
    instance_ids: Sequence[object] | None,
    *,
    actor: str,
    now: datetime,
) -> int:
    """Check the request and record the job (the caller enqueues :func:`run_migration_job` after commit)."""
    view = _target(session, engine, process_id, target)
    selected = _selected(session, process_id, view.deployment_id, instance_ids)
    if not selected:
        raise Invalid("invalid_input", problems=[FieldProblem("instances", "instances_none")])
    return owner_jobs.create(
        session,
        JOB_KIND,
        process_id,
        actor,
        {"target": view.deployment_id, "number": view.number, "instances": [i for i, _ in selected]},
        now,
    )


def migrate_each(
    session_factory: Any,
    engine: ProcessEngine,
    target_id: int,
    instances: Sequence[int],
    *,
    actor: str,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Move each instance in its own transaction: moved, refused (with why) or failed (rolled back)."""
    migrations = Migrations(engine)
    outcomes: list[dict[str, Any]] = []
    for done, instance_id in enumerate(instances, 1):
        outcome: dict[str, Any] = {"instance_id": instance_id}
        try:
            with session_factory() as session:
                outcome["ticket"] = session.scalar(
                    select(Ticket.number).where(Ticket.process_instance_id == instance_id)
                )
                check = migrations.migrate(session, instance_id, target_id, actor=actor)
            outcome |= {"outcome": "moved", "reset": [c.element_id for c in check.reset]}
        except MigrationRefused as refused:
            outcome |= {"outcome": "refused", "check": refused.check.as_json()}
        except Exception as err:  # any failure: that instance is rolled back, the others go on
            outcome |= {"outcome": "failed", "error": f"{type(err).__name__}: {err}"[:500]}
        outcomes.append(outcome)
        if progress is not None:
            progress(done, len(instances))
    return outcomes


def run_migration_job(session_factory: Any, engine: ProcessEngine, job_id: int) -> None:
    def work(params: dict[str, Any], progress: Callable[[int, int], None]) -> dict[str, Any]:
        with session_factory() as session:
            actor = owner_jobs.get(session, job_id).requested_by
        outcomes = migrate_each(
            session_factory, engine, int(params["target"]), params["instances"], actor=actor, progress=progress
        )
        counts = {kind: sum(o["outcome"] == kind for o in outcomes) for kind in ("moved", "refused", "failed")}
        return {"target": params["target"], "number": params.get("number"), "counts": counts, "outcomes": outcomes}

    owner_jobs.run(session_factory, job_id, work)

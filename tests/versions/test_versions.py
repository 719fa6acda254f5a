"""Versions of the lifecycle and moving running tickets between them (issue 12 §3), on real tickets."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from support import open_ticket

from engine import journal
from engine.api import StepReport
from engine.deployments import read_models
from engine.models import ProcessInstance, Timer
from engine.replay import replay
from processes.errors import Conflict, Invalid
from processes.modeling import service as modeling
from processes.platform import Platform
from processes.tickets.models import Ticket
from processes.versions import jobs as owner_jobs
from processes.versions import service

LIFECYCLE = "ticket_lifecycle"


def deploy_variant(platform: Platform, old: str, new: str) -> int:
    """The shipped models with one edit of the lifecycle diagram, deployed (it becomes current)."""
    files = read_models(platform.settings.models_dir)
    text = files["ticket_lifecycle.bpmn"]
    assert old in text
    files["ticket_lifecycle.bpmn"] = text.replace(old, new)
    with platform.db.session() as session:
        return platform.engine.deployments.deploy(session, files, "owner").id


# the arrival step is ahead of every open ticket: moving them changes nothing they did or wait on
LATER_STEP = ('name="Arrive on site"', 'name="Arrive at the site"')
# the response deadline's decision already ran for every ticket: no ticket may move
DONE_STEP = ('name="Decide response deadline"', 'name="Decide the response deadline"')


def instance_of(platform: Platform, ticket_id: int) -> ProcessInstance:
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        instance = session.get(ProcessInstance, ticket.process_instance_id)
        session.expunge(instance)
        return instance


def timers(platform: Platform, instance_id: int) -> dict[str, Any]:
    with platform.db.session() as session:
        rows = session.execute(select(Timer.spec_name, Timer.due_at).where(Timer.instance_id == instance_id))
        return dict(rows.all())


def test_dry_run_then_bulk_migration_of_selected_tickets_keeps_their_deadlines(platform: Platform) -> None:
    tickets = [open_ticket(platform, "orange"), open_ticket(platform, "yellow"), open_ticket(platform, "blue")]
    instances = [instance_of(platform, t) for t in tickets]
    source = instances[0].deployment_id
    before = {i.id: timers(platform, i.id) for i in instances}
    assert all({"response_deadline", "no_answer"} <= set(t) for t in before.values())
    platform.engine.clock.advance(minutes=7)  # a move must not restart any clock
    target = deploy_variant(platform, *LATER_STEP)

    with platform.db.session() as session:
        rows = service.dry_run(session, platform.engine, LIFECYCLE, target)
    assert sorted(r.check.instance_id for r in rows) == sorted(i.id for i in instances)
    assert all(r.check.movable and r.check.reset == () for r in rows)
    assert all(instance_of(platform, t).deployment_id == source for t in tickets)  # a dry run moves nothing

    chosen = [instances[0].id, instances[2].id]
    with platform.db.session() as session:
        job_id = service.request_migration(
            session,
            platform.engine,
            LIFECYCLE,
            str(target),
            [str(i) for i in chosen],
            actor="owner",
            now=platform.engine.clock.now(),
        )
    service.run_migration_job(platform.db.session, platform.engine, job_id)

    with platform.db.session() as session:
        job = owner_jobs.get(session, job_id)
        assert (job.status, job.done, job.total) == ("done", 2, 2)
        assert job.result["counts"] == {"moved": 2, "refused": 0, "failed": 0}
    for instance in instances:
        moved = instance.id in chosen
        with platform.db.session() as session:
            now_on = session.get(ProcessInstance, instance.id).deployment_id
            events = [e for e in journal.events(session, instance.id) if e.kind == "instance_migrated"]
        assert now_on == (target if moved else source)
        assert timers(platform, instance.id) == before[instance.id]  # absolute due times kept
        if moved:
            [event] = events
            assert (event.input["from_deployment"], event.input["to_deployment"], event.actor) == (
                source,
                target,
                "owner",
            )
        else:
            assert events == []
    with platform.db.session() as session:
        for instance_id in chosen:
            assert replay(session, platform.engine, session.get(ProcessInstance, instance_id)).equal
        views = {v.deployment_id: v for v in service.versions(session, platform.engine, LIFECYCLE)}
    assert (views[source].running, views[target].running, views[target].current) == (1, 2, True)


def test_a_failing_ticket_is_rolled_back_and_the_others_move(platform: Platform) -> None:
    tickets = [open_ticket(platform, "yellow"), open_ticket(platform, "blue")]
    instances = [instance_of(platform, t) for t in tickets]
    failing = instances[0].id
    before = timers(platform, failing)
    target = deploy_variant(platform, *LATER_STEP)

    def break_one(session: Any, report: StepReport) -> None:
        if report.instance_id == failing and any(e.kind == "instance_migrated" for e in report.events):
            raise RuntimeError("the ticket's listener failed")

    platform.engine.on_step(break_one)
    outcomes = service.migrate_each(
        platform.db.session, platform.engine, target, [i.id for i in instances], actor="owner"
    )
    assert [o["outcome"] for o in outcomes] == ["failed", "moved"]
    assert "listener failed" in outcomes[0]["error"]
    with platform.db.session() as session:
        kept = session.get(ProcessInstance, failing)
        assert kept.deployment_id == instances[0].deployment_id
        assert "instance_migrated" not in [e.kind for e in journal.events(session, failing)]
        assert session.get(ProcessInstance, instances[1].id).deployment_id == target
    assert timers(platform, failing) == before


def test_a_ticket_whose_finished_step_changed_cannot_move_and_says_why(platform: Platform) -> None:
    ticket_id = open_ticket(platform, "yellow")
    instance = instance_of(platform, ticket_id)
    target = deploy_variant(platform, *DONE_STEP)
    with platform.db.session() as session:
        [row] = service.dry_run(session, platform.engine, LIFECYCLE, target)
    assert not row.check.movable
    assert ("decide_response", "completed_task_changed") in [(c.element_id, c.reason) for c in row.check.blocking]
    outcomes = service.migrate_each(platform.db.session, platform.engine, target, [instance.id], actor="owner")
    assert outcomes[0]["outcome"] == "refused"
    assert instance_of(platform, ticket_id).deployment_id == instance.deployment_id


def test_retire_and_delete_refuse_what_would_break_running_or_past_tickets(platform: Platform) -> None:
    ticket_id = open_ticket(platform, "yellow")
    source = instance_of(platform, ticket_id).deployment_id
    target = deploy_variant(platform, *LATER_STEP)
    now = platform.engine.clock.now()
    with platform.db.session() as session, pytest.raises(Conflict) as refused:
        service.delete(session, platform.engine, LIFECYCLE, source)
    assert (refused.value.code, refused.value.params["count"]) == ("version_has_running", 1)
    with platform.db.session() as session, pytest.raises(Conflict) as refused:
        service.retire(session, platform.engine, LIFECYCLE, target, actor="owner", now=now)
    assert refused.value.code == "version_is_current"
    with platform.db.session() as session, pytest.raises(Conflict) as refused:
        service.delete(session, platform.engine, LIFECYCLE, target)
    assert refused.value.code == "version_is_current"
    with platform.db.session() as session:
        service.retire(session, platform.engine, LIFECYCLE, source, actor="owner", now=now)
    with platform.db.session() as session:
        views = {v.deployment_id: v for v in service.versions(session, platform.engine, LIFECYCLE)}
        assert views[source].retired and views[source].running == 1  # its ticket runs on
        with pytest.raises(Invalid) as bad:
            service.dry_run(session, platform.engine, LIFECYCLE, source)
        assert [(p.field, p.code) for p in bad.value.problems] == [("version", "version_retired")]
        with pytest.raises(Invalid) as bad:
            service.dry_run(session, platform.engine, LIFECYCLE, "not-a-version")
        assert [(p.field, p.code) for p in bad.value.problems] == [("version", "version_unknown")]
    # a version nothing ran on can go: deploy another, make the target current again, delete the unused one
    unused = deploy_variant(platform, 'name="Arrive on site"', 'name="Arrive on site, finally"')
    files = read_models(platform.settings.models_dir)
    files["ticket_lifecycle.bpmn"] = files["ticket_lifecycle.bpmn"].replace(*LATER_STEP)
    with platform.db.session() as session:
        assert platform.engine.deployments.deploy(session, files, "owner").id == target
    with platform.db.session() as session:
        service.delete(session, platform.engine, LIFECYCLE, unused)
    with platform.db.session() as session:
        assert unused not in {v.deployment_id for v in service.versions(session, platform.engine, LIFECYCLE)}


def test_a_bad_selection_is_refused_naming_the_field(platform: Platform) -> None:
    open_ticket(platform, "yellow")
    target = deploy_variant(platform, *LATER_STEP)
    for selection, code in ((["abc"], "instance_unknown"), (["999999"], "instance_unknown"), ([], "instances_none")):
        with platform.db.session() as session, pytest.raises(Invalid) as bad:
            service.request_migration(
                session, platform.engine, LIFECYCLE, target, selection, actor="owner", now=platform.engine.clock.now()
            )
        assert [(p.field, p.code) for p in bad.value.problems] == [("instances", code)]


def test_a_retired_version_cannot_be_deployed_again(platform: Platform) -> None:
    files = read_models(platform.settings.models_dir)
    with platform.db.session() as session:
        source = platform.engine.deployments.current(session, LIFECYCLE).id
        service.check_deployable(session, files)  # the running version: fine
    deploy_variant(platform, *LATER_STEP)
    with platform.db.session() as session:
        service.retire(session, platform.engine, LIFECYCLE, source, actor="owner", now=platform.engine.clock.now())
    with platform.db.session() as session, pytest.raises(Conflict) as refused:
        service.check_deployable(session, files)
    assert refused.value.code == "version_retired_redeploy"
    # nor through the editor: a draft whose files are the retired version's is refused at deploy
    with platform.db.session() as session:
        draft = modeling.start_draft(session, platform.engine, LIFECYCLE, "owner")
        modeling.save_draft(session, platform.engine, draft.id, files, "owner")
        draft_id = draft.id
    with platform.db.session() as session, pytest.raises(Conflict) as refused:
        modeling.deploy_draft(session, platform.engine, draft_id, "owner", "back to the shipped version")
    assert refused.value.code == "version_retired_redeploy"

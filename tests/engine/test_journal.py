"""The journal: every step on record, tamper-evident, and enough to replay an instance exactly."""

from __future__ import annotations

from sqlalchemy import select, text
from support import complete, drain, open_ticket, rework_with_lamp_taps

from engine import journal
from engine.models import JournalEvent, ProcessInstance
from engine.replay import Replayer, replay
from processes.tickets.models import Ticket


def run_ticket(platform, *, decline_first: bool = True) -> Ticket:  # noqa: ANN001
    """A ticket taken through decline, accept, on-site, close-out, reject, rework, accept, 7-day watch."""
    ticket_id = open_ticket(platform, "red", "grinder", "磨床主轴过热报警", source_channel="app_qr")

    def act(spec: str, data: dict, customer: bool = False) -> None:
        complete(platform, ticket_id, spec, data, customer=customer)
        platform.engine.clock.advance(minutes=7)

    if decline_first:
        act("accept_offer", {"decision": "decline", "decline_reason": "overloaded"})
    act("accept_offer", {"decision": "accept"})
    act("on_site", {})  # at the site (support.complete): a far arrival is a review flag
    close_out = {"root_cause": "wear", "prevention_suggestion": "定期更换轴承", "fixed_first_time": True}
    act("close_out", close_out)
    act("customer_acceptance", {"verdict": "reject", "rejection_reason": "还是过热"}, customer=True)
    act("close_out", close_out)
    act("customer_acceptance", {"verdict": "accept"}, customer=True)
    platform.engine.clock.advance(days=8)
    drain(platform)
    with platform.db.session() as session:
        return session.get(Ticket, ticket_id)


def test_replay_walks_every_step_and_ends_in_the_stored_state(platform) -> None:  # noqa: ANN001
    ticket = run_ticket(platform)
    with platform.db.session() as session:
        instance = session.get(ProcessInstance, ticket.process_instance_id)
        assert instance.status == "completed"
        result = replay(session, platform.engine, instance)
    assert result.equal, result.differences
    steps = {s.step for s in result.steps}
    assert steps == set(range(1, instance.version + 1))
    decided = [
        s
        for s in result.steps
        if any(e.kind == "task_completed" and e.task_spec == "decide_response" for e in s.events)
    ]
    assert decided[0].data_changes["set"]["response_duration"] == "PT30M"


def test_replay_of_a_running_instance_matches_too(platform) -> None:  # noqa: ANN001
    ticket_id = open_ticket(platform, "blue", text="coolant pump noisy", at_least=1)
    with platform.db.session() as session:
        instance = session.get(ProcessInstance, session.get(Ticket, ticket_id).process_instance_id)
        replayer = Replayer(session, platform.engine, instance)
        steps = list(replayer.steps())
        assert steps[-1].waiting_on == ["accept_offer (ready)", "no_answer (waiting)", "response_deadline (waiting)"]
        assert replayer.differences() == []


def test_a_doctored_journal_no_longer_replays_to_the_stored_state(platform) -> None:  # noqa: ANN001
    ticket = run_ticket(platform, decline_first=False)
    with platform.db.session() as session:
        event = session.scalar(
            select(JournalEvent)
            .where(
                JournalEvent.instance_id == ticket.process_instance_id,
                JournalEvent.kind == "user_task_completed",
                JournalEvent.task_spec == "close_out",
            )
            .limit(1)
        )
        event.input = {**event.input, "data": {**event.input["data"], "root_cause": "installation"}}
    with platform.db.session() as session:
        instance = session.get(ProcessInstance, ticket.process_instance_id)
        assert not replay(session, platform.engine, instance).equal
        broken = journal.verify(session, instance.id, instance.journal_head)
    assert broken is not None and broken.seq == event.seq and "edited" in broken.reason


def _chain(platform, ticket: Ticket) -> list[JournalEvent]:  # noqa: ANN001
    with platform.db.session() as session:
        return list(journal.events(session, ticket.process_instance_id))


def _verify(platform, ticket: Ticket):  # noqa: ANN001, ANN201
    with platform.db.session() as session:
        instance = session.get(ProcessInstance, ticket.process_instance_id)
        return journal.verify(session, instance.id, instance.journal_head)


def test_an_intact_chain_verifies(platform) -> None:  # noqa: ANN001
    ticket = run_ticket(platform, decline_first=False)
    assert _verify(platform, ticket) is None


def test_an_edited_row_is_detected(platform) -> None:  # noqa: ANN001
    ticket = run_ticket(platform, decline_first=False)
    victim = _chain(platform, ticket)[5]
    with platform.db.engine.begin() as connection:
        connection.execute(text("UPDATE journal_event SET actor = 'mallory' WHERE id = :id"), {"id": victim.id})
    broken = _verify(platform, ticket)
    assert (broken.seq, broken.event_id) == (victim.seq, victim.id) and "edited" in broken.reason


def test_a_deleted_row_is_detected(platform) -> None:  # noqa: ANN001
    ticket = run_ticket(platform, decline_first=False)
    chain = _chain(platform, ticket)
    with platform.db.engine.begin() as connection:
        connection.execute(text("DELETE FROM journal_event WHERE id = :id"), {"id": chain[3].id})
    broken = _verify(platform, ticket)
    assert broken.seq == chain[4].seq and "missing" in broken.reason


def test_a_deleted_last_row_is_detected(platform) -> None:  # noqa: ANN001
    ticket = run_ticket(platform, decline_first=False)
    chain = _chain(platform, ticket)
    with platform.db.engine.begin() as connection:
        connection.execute(text("DELETE FROM journal_event WHERE id = :id"), {"id": chain[-1].id})
    assert "missing at the end" in _verify(platform, ticket).reason


def test_an_inserted_row_is_detected_even_with_a_valid_looking_hash(platform) -> None:  # noqa: ANN001
    ticket = run_ticket(platform, decline_first=False)
    chain = _chain(platform, ticket)
    with platform.db.session() as session:
        # A forger renumbers the tail to make room and writes a row chained to its predecessor.
        for event in sorted(chain[6:], key=lambda e: -e.seq):
            session.execute(text("UPDATE journal_event SET seq = seq + 1 WHERE id = :id"), {"id": event.id})
        forged = JournalEvent(
            instance_id=chain[5].instance_id,
            seq=chain[5].seq + 1,
            at=chain[5].at,
            actor="mallory",
            kind="user_task_completed",
            deployment_hash=chain[5].deployment_hash,
            task_id=None,
            task_spec="close_out",
            task_name=None,
            input={"step": 99, "data": {}},
            changes=None,
            prev_hash=chain[5].hash,
            hash="",
        )
        forged.hash = journal.content_hash(forged)
        session.add(forged)
    broken = _verify(platform, ticket)
    assert broken is not None and broken.seq == chain[5].seq + 2  # the row after the forgery no longer chains


def test_audit_commands(platform, monkeypatch, capsys) -> None:  # noqa: ANN001
    from click.testing import CliRunner

    from webui import cli
    from webui.cli import audit

    ticket = run_ticket(platform, decline_first=False)
    monkeypatch.setattr(audit, "build", lambda: platform)
    runner = CliRunner()
    ok = runner.invoke(cli.main, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "1 journal(s) intact" in ok.output
    replayed = runner.invoke(cli.main, ["audit", "replay", ticket.number])
    assert replayed.exit_code == 0, replayed.output
    assert "replayed state equals the stored state" in replayed.output
    assert "customer_acceptance" in replayed.output
    victim = _chain(platform, ticket)[2]
    with platform.db.engine.begin() as connection:
        connection.execute(text("UPDATE journal_event SET input = '{}' WHERE id = :id"), {"id": victim.id})
    broken = runner.invoke(cli.main, ["audit", "verify", "--ticket", ticket.number])
    assert broken.exit_code == 1
    assert f"seq {victim.seq}" in broken.output and f"row id {victim.id}" in broken.output


def test_replay_after_a_rework_with_other_lamp_taps_equals_the_stored_state(platform) -> None:  # noqa: ANN001
    """A nested form value (the lamp taps, a list of dicts) answered twice: the second answer must not
    rewrite the first pass's finished tasks, in memory or in a replay (SpiffWorkflow shares nested values
    between tasks unless the engine copies them)."""
    ticket_id = rework_with_lamp_taps(platform)
    with platform.db.session() as session:
        instance = session.get(ProcessInstance, session.get(Ticket, ticket_id).process_instance_id)
        first, second = replay(session, platform.engine, instance), replay(session, platform.engine, instance)
        live = platform.engine.steps.workflows.take(instance.id, instance.version)
    assert first.differences == [] and second.differences == []
    assert live is not None
    close_outs = sorted(
        (t.last_state_change, t.data["lamp_taps"][0]["x"])
        for t in live.workflow.get_tasks()
        if t.task_spec.name == "close_out"
    )
    assert [x for _, x in close_outs] == [0.29502, 0.29616], "the first close-out kept its own answer in memory"

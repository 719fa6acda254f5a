"""Issue 13 §2: what was typed at intake, the domain columns a step changes and every file's SHA-256 are
on the hash chain, so editing the ticket row (not the journal) is caught by verification."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select, update
from support import complete, open_ticket

from engine import journal
from engine.models import JournalEvent, ProcessInstance
from processes.journal_audit import fact_mismatches
from processes.tickets.lifecycle import FACTS
from processes.tickets.models import Attachment, Ticket
from webui import cli
from webui.cli import audit


def _facts_rows(platform, ticket_id: int) -> list[JournalEvent]:  # noqa: ANN001
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        return list(
            session.scalars(
                select(JournalEvent)
                .where(JournalEvent.instance_id == ticket.process_instance_id, JournalEvent.kind == FACTS)
                .order_by(JournalEvent.seq)
            )
        )


def test_intake_status_assignment_and_files_are_chained(platform) -> None:  # noqa: ANN001
    ticket_id = open_ticket(platform, "red", text="主轴异响，无法启动", at_least=1)
    first = _facts_rows(platform, ticket_id)
    assert first, "the intake step chained no facts"
    facts = first[0].input["facts"]
    assert facts["problem_description"] == "主轴异响，无法启动"
    assert facts["urgency"] == "red" and facts["source_channel"] == "web"
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    complete(platform, ticket_id, "on_site", {})
    rows = _facts_rows(platform, ticket_id)
    last = rows[-1].input["facts"]
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert last["status"] == ticket.status and last["engineer_id"] == ticket.engineer_id is not None
        photos = session.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(Attachment.id))
        assert last["attachments"] == [{"id": p.id, "field": p.field, "sha256": p.sha256} for p in photos] != []
        assert any("attachments" in row.input["changed"] for row in rows[1:])  # chained when the file came
        # The rows are ordinary links of the chain: it still verifies.
        assert journal.verify(session, ticket.process_instance_id, None) is None
        assert fact_mismatches(session) == []


def test_editing_the_row_without_the_journal_is_named(platform, monkeypatch) -> None:  # noqa: ANN001
    ticket_id = open_ticket(platform, "yellow", text="coolant leak", at_least=1)
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    complete(platform, ticket_id, "on_site", {})
    with platform.db.session() as session:
        number = session.get(Ticket, ticket_id).number
        session.execute(update(Ticket).where(Ticket.id == ticket_id).values(status="closed"))
        session.execute(update(Ticket).where(Ticket.id == ticket_id).values(problem_description="nothing wrong"))
        session.execute(update(Attachment).where(Attachment.ticket_id == ticket_id).values(sha256="f" * 64))
    with platform.db.session() as session:
        found = {(m.ticket, m.field) for m in fact_mismatches(session)}
    assert found == {(number, "status"), (number, "problem_description"), (number, "attachments")}
    monkeypatch.setattr(audit, "build", lambda: platform)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("CLOSELOOP_LANG", raising=False)
    result = CliRunner().invoke(cli.main, ["audit", "verify", "--ticket", number])
    assert result.exit_code == 1, result.output
    assert f"CHANGED ticket {number}: status is closed in the row but" in result.output
    assert f"CHANGED ticket {number}: problem_description is nothing wrong in the row" in result.output


def test_an_annotation_needs_an_open_step(platform) -> None:  # noqa: ANN001
    ticket_id = open_ticket(platform, "yellow", at_least=1)
    with platform.db.session() as session:
        instance_id = session.get(Ticket, ticket_id).process_instance_id
        try:
            journal.annotate(session, instance_id, FACTS, "x", {})
        except LookupError as err:
            assert "no step" in str(err)
        else:
            raise AssertionError("an annotation outside a step was accepted and would never be written")


def test_migration_0017_chains_the_facts_of_tickets_that_had_none(platform, database_url, monkeypatch) -> None:  # noqa: ANN001
    from alembic import command
    from alembic.config import Config

    from processes.platform import ROOT
    from processes.tickets import lifecycle

    with monkeypatch.context() as before_0017:
        before_0017.setattr(lifecycle, "chain_facts", lambda *args, **kwargs: None)
        ticket_id = open_ticket(platform, "yellow", text="旧工单：主轴异响，无法启动", at_least=1)
    assert _facts_rows(platform, ticket_id) == []
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.downgrade(config, "0016")
    command.upgrade(config, "head")
    (row,) = _facts_rows(platform, ticket_id)
    assert row.actor == "migration 0017" and row.input["facts"]["problem_description"] == "旧工单：主轴异响，无法启动"
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        process = session.get(ProcessInstance, ticket.process_instance_id)
        assert (process.journal_seq, process.journal_head) == (row.seq, row.hash)
        assert journal.verify(session, process.id, process.journal_head) is None
        assert fact_mismatches(session) == []

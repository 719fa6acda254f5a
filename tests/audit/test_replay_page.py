"""The auditor's replay page (issue 13 part A): each step rebuilt from the journal, tampering named on
the page, every view on the access log, which only administrators read."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select, update
from support import login, rework_with_lamp_taps

from engine.models import JournalEvent
from processes.accounts.models import User
from processes.audit import access_log
from processes.audit.models import AccessLogEntry
from processes.audit.replay import ticket_replay
from processes.tickets.models import Ticket


def make_users(platform: Any) -> None:
    from processes.accounts.service import create_user, hash_password

    with platform.db.session() as session:
        for username, role in (("auditor", "auditor"), ("admin", "admin"), ("owner", "process_owner")):
            if session.scalar(select(User.id).where(User.username == username)) is None:
                create_user(session, username, hash_password("closeloop-demo"), role)


def as_user(app: Any, username: str, lang: str = "en") -> Any:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    login(client, username)
    return client


def journal_rows(session: Any, instance_id: int) -> list[JournalEvent]:
    query = select(JournalEvent).where(JournalEvent.instance_id == instance_id).order_by(JournalEvent.seq)
    return list(session.scalars(query))


def reworked(platform: Any) -> Ticket:
    ticket_id = rework_with_lamp_taps(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        session.expunge(ticket)
    return ticket


def test_each_step_shows_what_was_true_then_and_rework_is_counted(platform) -> None:  # noqa: ANN001
    ticket = reworked(platform)
    with platform.db.session() as session:
        replay = ticket_replay(platform, session, session.get(Ticket, ticket.id))
    assert replay is not None and replay.error is None and replay.differences == ()
    assert replay.verification.intact
    # The customer rejected once: that step's data holds the rejection, the next close-out replaces it.
    rejecting = [s for s in replay.steps if "customer_acceptance" in s.elements and s.data.get("verdict") == "reject"]
    assert len(rejecting) == 1
    rejected = rejecting[0]
    assert rejected.data.get("rejection_reason") == "还是漏"
    assert any(c.key == "verdict" and c.after == "reject" for c in rejected.changes)
    later = [s for s in replay.steps if s.number > rejected.number and "customer_acceptance" in s.elements]
    assert later and later[-1].data.get("verdict") == "accept"
    # close_out and customer_acceptance ran twice; the flow back from the rejection was taken once.
    assert replay.element_counts["close_out"] == 2
    assert replay.element_counts["customer_acceptance"] == 2
    assert replay.element_counts["accept_offer"] == 1
    flows = replay.flow_counts
    expected = {
        "on_site->close_out": 1,
        "close_out->compare": 2,
        "customer_acceptance->gw_verdict": 2,
        "gw_verdict->count_rework": 1,  # the rejection's loop back
        "count_rework->close_out": 1,
        "gw_verdict->start_watch": 1,  # the acceptance
    }
    assert {flow: flows.get(flow) for flow in expected} == expected
    # The placeholder diagnosis photo is shown at the on-site step with its hash.
    on_site = next(s for s in replay.steps if "on_site" in s.elements)
    assert [f.field for f in on_site.files] == ["diagnosis_photo"]


def test_replay_page_for_auditor_logged_and_bilingual(platform, app) -> None:  # noqa: ANN001
    make_users(platform)
    ticket = reworked(platform)
    page = as_user(app, "auditor").get(f"/audit/tickets/{ticket.number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="verification" class="verify-ok" data-intact="1"' in html
    assert "Journal intact" in html and "<script>" not in html and "style=" not in html
    assert html.count('class="replay-step"') >= 8
    zh = as_user(app, "auditor", "zh-CN,zh;q=0.9").get(f"/audit/tickets/{ticket.number}").get_data(as_text=True)
    assert "日志完整" in zh and "Journal intact" not in zh
    with platform.db.session() as session:
        rows = list(session.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "replay")))
    assert [(r.username, r.role, r.target) for r in rows] == [("auditor", "auditor", ticket.number)] * 2
    # Only administrators read the log; the auditor is refused it and writes nothing there by asking.
    assert as_user(app, "auditor").get("/admin/access-log").status_code == 403
    assert as_user(app, "owner").get("/admin/access-log").status_code == 403
    log = as_user(app, "admin").get("/admin/access-log")
    assert log.status_code == 200
    listed = re.findall(r'data-user="auditor" data-action="replay" data-target="([^"]+)"', log.get_data(as_text=True))
    assert listed == [ticket.number, ticket.number]
    # An unknown ticket is a 404, and nothing is logged for it; an unknown log action is refused.
    assert as_user(app, "auditor").get("/audit/tickets/T-NOPE").status_code == 404
    with platform.db.session() as session:
        assert session.scalar(select(AccessLogEntry.id).where(AccessLogEntry.target == "T-NOPE")) is None
        with pytest.raises(ValueError, match="unknown access-log action"):
            access_log.record(session, platform.engine.clock.now(), "auditor", "auditor", "edit", "", "/")
    # Engineers and agents have no audit screen.

    assert as_user(app, "agent").get(f"/audit/tickets/{ticket.number}").status_code == 403


def test_an_edited_row_is_named_on_the_page_as_the_first_broken_one(platform, app) -> None:  # noqa: ANN001
    make_users(platform)
    ticket = reworked(platform)
    with platform.db.session() as session:
        instance_id = session.get(Ticket, ticket.id).process_instance_id
        rows = journal_rows(session, instance_id)
        target = next(r for r in rows if r.kind == "user_task_completed" and r.task_spec == "customer_acceptance")
        edited = {**target.input, "data": {**target.input["data"], "verdict": "accept"}}
        session.execute(update(JournalEvent).where(JournalEvent.id == target.id).values(input=edited))
        target_id, target_seq = target.id, target.seq
    html = as_user(app, "auditor").get(f"/audit/tickets/{ticket.number}").get_data(as_text=True)
    assert 'data-intact="0"' in html and "Journal broken" in html
    assert f'data-seq="{target_seq}" data-row="{target_id}"' in html
    assert f"row id {target_id}, seq {target_seq}" in html and "(edited)" in html


def test_a_deleted_row_is_named_on_the_page(platform, app) -> None:  # noqa: ANN001
    make_users(platform)
    ticket = reworked(platform)
    with platform.db.session() as session:
        instance_id = session.get(Ticket, ticket.id).process_instance_id
        rows = journal_rows(session, instance_id)
        gone = rows[len(rows) // 2]
        session.delete(gone)
        gone_seq = gone.seq
    html = as_user(app, "auditor").get(f"/audit/tickets/{ticket.number}").get_data(as_text=True)
    assert 'data-intact="0"' in html
    assert 'data-kind="deleted"' in html and f'data-seq="{gone_seq + 1}"' in html

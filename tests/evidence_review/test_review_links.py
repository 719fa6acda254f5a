"""Review flags name the ticket a re-used photo came from and show every before/after pair; a recurrence
and the ticket it reopens link to each other (issue 10, "Supervisors")."""

from __future__ import annotations

import re

from sqlalchemy import select
from support import close_out_evidence, complete, drain, login, open_ticket

from processes.accounts.models import User
from processes.devices.models import Device
from processes.evidence.models import EvidenceComparison
from processes.tickets.attachments import Upload
from processes.tickets.models import Ticket
from processes.tickets.tasks import Actor

EN = {"Accept-Language": "en"}
CLOSE = {"root_cause": "wear", "prevention_suggestion": "每月清理冷却液", "fixed_first_time": True}


def _device(platform, nth: int):  # noqa: ANN001, ANN202
    """A different demo lathe per ticket, so no ticket looks like a duplicate of another."""
    with platform.db.session() as session:
        return list(session.scalars(select(Device).where(Device.device_type == "cnc_lathe").order_by(Device.id)))[nth]


def _at_close_out(platform, nth: int) -> int:  # noqa: ANN001
    ticket_id = open_ticket(platform, "yellow", device=_device(platform, nth))
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    complete(platform, ticket_id, "on_site")
    return ticket_id


def _number(platform, ticket_id: int) -> str:  # noqa: ANN001
    with platform.db.session() as session:
        return session.get(Ticket, ticket_id).number


def _spec(platform, ticket_id: int) -> str:  # noqa: ANN001
    with platform.db.session() as session:
        (view,) = platform.desk.for_ticket(session, session.get(Ticket, ticket_id))
        return view.spec_name


def test_a_reused_photo_names_its_ticket_and_every_round_is_shown(platform, client) -> None:  # noqa: ANN001
    first = _at_close_out(platform, 0)
    complete(platform, first, "close_out", CLOSE)
    assert _spec(platform, first) == "customer_acceptance"
    second = _at_close_out(platform, 1)
    with platform.db.session() as session:
        old_after = session.scalar(select(EvidenceComparison.after_sha256).where(EvidenceComparison.ticket_id == first))
        reused = platform.attachments.store(
            session,
            session.get(Ticket, second),
            Upload("running_photo", "r.jpg", "image/jpeg", platform.attachments.files.get(old_after)),
            expect="image",
            uploaded_by="t",
            task_spec="close_out",
        )
    complete(platform, second, "close_out", {**CLOSE, "running_photo": f"sha256:{reused.sha256}"})
    assert _spec(platform, second) == "review_evidence"
    first_number, second_number = _number(platform, first), _number(platform, second)

    login(client, "supervisor")
    page = client.get(f"/tickets/{second_number}", headers=EN).get_data(as_text=True)
    flag = re.search(r'<p class="error reused-from" data-which="after" data-ticket="([^"]+)">(.*?)</p>', page, re.S)
    assert flag and flag.group(1) == first_number
    assert f'href="/tickets/{first_number}"' in flag.group(2) and "already used on ticket" in flag.group(2)
    assert len(re.findall(r'<div class="grid pair" data-comparison="\d+">', page)) == 1
    with platform.db.session() as session:
        (view,) = platform.desk.for_ticket(session, session.get(Ticket, second))
        review_task = view.id
    review_page = client.get(f"/tasks/{review_task}", headers=EN).get_data(as_text=True)
    assert f'data-ticket="{first_number}"' in review_page  # the reviewer's form says it too
    zh = client.get(f"/tickets/{second_number}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "修复后照片已在以下工单中使用过" in zh

    # Returned, closed out again with fresh photos: both rounds are there to compare, the flag was round 1's.
    with platform.db.session() as session:
        supervisor = session.scalar(select(User).where(User.username == "supervisor"))
        platform.desk.complete(
            session, Actor(user=supervisor), review_task, {"review_decision": "return", "review_comment": "请重拍"}
        )
    drain(platform)
    complete(platform, second, "close_out", {**CLOSE, **close_out_evidence(platform, second, by="again")})
    page = client.get(f"/tickets/{second_number}", headers=EN).get_data(as_text=True)
    pairs = re.findall(r'<div class="grid pair" data-comparison="(\d+)">', page)
    assert len(pairs) == 2 and "Round 2: after" in page and "Every before/after pair (2)" in page


def test_a_recurrence_and_the_ticket_it_reopens_link_both_ways(platform, client) -> None:  # noqa: ANN001
    first = _at_close_out(platform, 2)
    complete(platform, first, "close_out", CLOSE)
    complete(platform, first, "customer_acceptance", {"verdict": "accept"}, customer=True)
    with platform.db.session() as session:
        ticket = session.get(Ticket, first)
        assert ticket.closed_at is not None and ticket.watch_until is not None
        device = ticket.device
        agent = session.scalar(select(User).where(User.username == "agent"))
        again = platform.intake.create(
            session,
            {
                "source_channel": "web",
                "urgency": "yellow",
                "device_id": device.id,
                "problem_description": "同一台车床主轴又出现异响",
            },
            creator=agent,
        )
        again_number = again.number
    drain(platform)
    first_number = _number(platform, first)
    login(client, "supervisor")
    old = client.get(f"/tickets/{first_number}", headers=EN).get_data(as_text=True)
    assert f'href="/tickets/{again_number}"' in old and "came back as" in old
    new = client.get(f"/tickets/{again_number}", headers=EN).get_data(as_text=True)
    reopens = re.search(r'<dd id="reopens">(.*?)</dd>', new, re.S)
    assert reopens and f'href="/tickets/{first_number}"' in reopens.group(1)
    assert "came back within 7 days" in reopens.group(1)
    zh = client.get(f"/tickets/{again_number}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "重开自" in zh
    # an ordinary ticket reopens nothing
    assert 'id="reopens"' not in old

"""The supervisors' "at risk now" overview over real tickets moved by the real lifecycle (issue 10)."""

from __future__ import annotations

import re

from sqlalchemy import select
from support import close_out_evidence, complete, drain, login, open_ticket

from processes.devices.models import Device
from processes.engineers.models import Engineer
from processes.tickets.models import Ticket

EN = {"Accept-Language": "en"}


def _bucket(html: str, bucket: str) -> list[str]:
    section = re.search(rf'<section id="bucket-{bucket}" class="bucket">(.*?)</section>', html, re.S)
    assert section, bucket
    return re.findall(r'<li data-ticket="([^"]+)">', section.group(1))


def _lathes(platform) -> list[Device]:  # noqa: ANN001
    with platform.db.session() as session:
        return list(session.scalars(select(Device).where(Device.device_type == "cnc_lathe").order_by(Device.id)))


def _number(platform, ticket_id: int) -> str:  # noqa: ANN001
    with platform.db.session() as session:
        return session.get(Ticket, ticket_id).number


def _group_of_engineer(platform, ticket_id: int) -> str:  # noqa: ANN001
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        return session.get(Engineer, ticket.engineer_id).group


def test_the_overview_sorts_open_work_by_risk_with_counts_per_group(platform, client) -> None:  # noqa: ANN001
    lathes = _lathes(platform)  # one device each: none looks like a duplicate of another
    red = open_ticket(platform, "red", device=lathes[0])  # respond within 30 min
    orange = open_ticket(platform, "orange", device=lathes[1])  # within 1 h
    yellow = open_ticket(platform, "yellow", device=lathes[2])  # within 24 h: not at risk yet
    review = open_ticket(platform, "yellow", device=lathes[3])
    complete(platform, review, "accept_offer", {"decision": "accept"})
    complete(platform, review, "on_site")
    # the running photo is the fault photo again: flagged for a supervisor's review
    evidence = close_out_evidence(platform, review)
    complete(
        platform,
        review,
        "close_out",
        {
            **evidence,
            "running_photo": evidence["fault_photo"],
            "root_cause": "wear",
            "prevention_suggestion": "每月检查",
            "fixed_first_time": True,
        },
    )
    numbers = {
        name: _number(platform, i)
        for name, i in (("red", red), ("orange", orange), ("yellow", yellow), ("review", review))
    }

    login(client, "supervisor")
    html = client.get("/overview", headers=EN).get_data(as_text=True)
    assert _bucket(html, "due_30m") == [numbers["red"]]
    assert _bucket(html, "due_2h") == [numbers["orange"]]
    assert _bucket(html, "breached") == []
    assert set(_bucket(html, "offers")) == {numbers["red"], numbers["orange"], numbers["yellow"]}
    assert _bucket(html, "reviews") == [numbers["review"]]
    assert _bucket(html, "escalations") == []
    assert f'href="/tickets/{numbers["red"]}"' in html
    assert "min left" in html
    # per group: the offered engineer's group carries the red ticket's deadline and its offer
    group = _group_of_engineer(platform, red)
    row = re.search(rf'<tr data-group="{group}">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'<td data-bucket="due_30m">1</td>', row)
    cells = re.findall(r'<tr data-group="[^"]*">.*?<td data-bucket="offers">(\d+)</td>', html, re.S)
    assert sum(int(c) for c in cells) == 3
    # the page polls its fragment with a script file, never inline
    assert 'data-fragment="/overview/fragment"' in html and 'src="/static/overview.js"' in html
    fragment = client.get("/overview/fragment", headers=EN).get_data(as_text=True)
    assert "<html" not in fragment and _bucket(fragment, "due_30m") == [numbers["red"]]
    zh = client.get("/overview", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "当前风险" in zh and "30 分钟内到期" in zh

    # Two hours later: both deadlines have passed, and the unanswered offers were escalated.
    platform.engine.clock.advance(hours=2)
    drain(platform)
    html = client.get("/overview", headers=EN).get_data(as_text=True)
    assert set(_bucket(html, "breached")) == {numbers["red"], numbers["orange"]}
    assert _bucket(html, "due_30m") == [] and _bucket(html, "due_2h") == []
    assert {numbers["red"], numbers["orange"], numbers["yellow"]} <= set(_bucket(html, "escalations"))
    assert "min overdue" in html


def test_a_calm_desk_says_so(platform, client) -> None:  # noqa: ANN001
    login(client, "supervisor")
    html = client.get("/overview", headers=EN).get_data(as_text=True)
    assert 'id="overview-calm"' in html and all(not _bucket(html, b) for b in ("breached", "offers", "reviews"))
    assert 'data-interval="30"' in html
    assert 'data-interval="5"' in client.get("/overview?every=1", headers=EN).get_data(as_text=True)
    assert 'data-interval="600"' in client.get("/overview?every=99999", headers=EN).get_data(as_text=True)
    assert 'data-interval="30"' in client.get("/overview?every=soon", headers=EN).get_data(as_text=True)

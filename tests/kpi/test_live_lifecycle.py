"""Live tickets through the REAL lifecycle (demo plant, real engine, rq and Redis), a FrozenClock moved
by hand, and every KPI figure checked against numbers worked out from what the test did.

Five tickets on five different devices, all on the plant's clock (UTC+8), starting 25 Nov 09:30:

* T1 first-time fix; the same problem on the same device is reported again 6 days after its acceptance
  (T1-again, left open): T1 recurred.
* T2 rework: the customer rejects once, the second close-out is accepted.
* T3 first-time fix; the same problem on its device 8 days after acceptance (T3-again): no recurrence.
* T4 escalated (nobody answers the first offer in time), then a first-time fix.
* T5 SLA breach: on site 25 h after creation, the yellow deadline is 24 h.

Closed: T1 T2 T3 T4 T5 = 5, all matured at the evaluation time.  Rework: T2 (1/5).  Recurrence: T1
(1/5).  FTFR: T3 T4 T5 = 3/5 = 60 %.  First pass: all but T2 = 4/5.  SLA met: all but T5 = 4/5.
Escalated: T4 (1/5).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from support import complete, drain, open_ticket

from processes.kpi import measures
from processes.kpi.models import ServiceCase, ServiceEvent
from processes.kpi.periods import parse_moment

TZ = "Asia/Shanghai"
TEXT = "coolant leak"


def distinct_devices(platform: Any, count: int) -> list[Any]:
    """Devices whose yellow tickets about ``TEXT`` get at least two candidates, one per ticket."""
    from processes.devices.models import Device
    from processes.dispatch import roster
    from processes.tickets.models import Ticket

    found = []
    with platform.db.session() as session:
        team = roster.load(session, platform.engine.clock.now(), TZ)
        policy = roster.policy_from({"beyond_radius": False}, "yellow")
        for device in session.scalars(select(Device).order_by(Device.id)):
            probe = Ticket(id=0, site=device.site, device=device, urgency="yellow", problem_description=TEXT)
            if len(team.shortlist(policy).shortlist(roster.dispatch_ticket(probe)).candidates) >= 2:
                found.append(device)
            if len(found) == count:
                return found
    raise AssertionError(f"the demo plant has fewer than {count} devices with two candidates")


def repair(platform: Any, clock: Any, ticket_id: int, *, on_site_after: timedelta, rejections: int = 0) -> None:
    clock.advance(minutes=5)
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    clock.advance(seconds=on_site_after.total_seconds() - 300)
    complete(platform, ticket_id, "on_site", {})
    close_out = {"root_cause": "wear", "prevention_suggestion": "定期检查", "fixed_first_time": True}
    for _ in range(rejections):
        clock.advance(minutes=40)
        complete(platform, ticket_id, "close_out", close_out)
        clock.advance(minutes=20)
        complete(
            platform,
            ticket_id,
            "customer_acceptance",
            {"verdict": "reject", "rejection_reason": "还是漏"},
            customer=True,
        )
    clock.advance(minutes=40)
    complete(platform, ticket_id, "close_out", close_out)
    clock.advance(minutes=20)
    complete(platform, ticket_id, "customer_acceptance", {"verdict": "accept"}, customer=True)


def case(platform: Any, ticket_id: int) -> ServiceCase:
    with platform.db.session() as session:
        row = session.scalar(select(ServiceCase).where(ServiceCase.ticket_id == ticket_id))
        assert row is not None
        session.expunge(row)
        return row


def drive_five_tickets(platform: Any, clock: Any) -> dict[str, int]:
    """The five tickets of the module docstring, plus the two later reports on T1's and T3's devices."""
    d1, d2, d3, d4, d5 = distinct_devices(platform, 5)
    hour = timedelta(hours=1)
    t1 = open_ticket(platform, device=d1, text=TEXT)
    repair(platform, clock, t1, on_site_after=hour)
    clock.advance(hours=1)
    t2 = open_ticket(platform, device=d2, text=TEXT)
    repair(platform, clock, t2, on_site_after=hour, rejections=1)
    clock.advance(hours=1)
    t3 = open_ticket(platform, device=d3, text=TEXT)
    repair(platform, clock, t3, on_site_after=hour)
    clock.advance(hours=1)
    t4 = open_ticket(platform, device=d4, text=TEXT)
    clock.advance(minutes=31)  # the accept timeout (30 min) passes: escalation, the next candidate is offered
    drain(platform)
    repair(platform, clock, t4, on_site_after=hour)
    clock.advance(hours=1)
    t5 = open_ticket(platform, device=d5, text=TEXT)
    repair(platform, clock, t5, on_site_after=timedelta(hours=25))

    accepted_t1, accepted_t3 = case(platform, t1).accepted_at, case(platform, t3).accepted_at
    assert accepted_t1 is not None and accepted_t3 is not None
    clock.set(accepted_t1 + timedelta(days=6))
    t1_again = open_ticket(platform, device=d1, text=TEXT)
    clock.set(accepted_t3 + timedelta(days=8))
    t3_again = open_ticket(platform, device=d3, text=TEXT)
    return {"t1": t1, "t2": t2, "t3": t3, "t4": t4, "t5": t5, "t1_again": t1_again, "t3_again": t3_again}


def november(session: Any, as_of: Any) -> dict[str, Any]:
    (period,) = measures.report(
        session,
        start=parse_moment("2026-11-01", TZ),
        end=parse_moment("2027-01-01", TZ),
        by=None,
        as_of=as_of,
        timezone=TZ,
    )["periods"]
    return period


def test_live_tickets_give_the_hand_computed_figures(platform, clock) -> None:  # noqa: ANN001
    tickets = drive_five_tickets(platform, clock)
    t1, t2, t4, t5 = tickets["t1"], tickets["t2"], tickets["t4"], tickets["t5"]
    t1_again, t3_again = tickets["t1_again"], tickets["t3_again"]

    c1, c2, c4, c5 = case(platform, t1), case(platform, t2), case(platform, t4), case(platform, t5)
    assert c1.problem_code == case(platform, t1_again).problem_code == "coolant system"
    assert case(platform, t3_again).accepted_at is None
    assert (c2.rejections, c2.first_pass) == (1, False)
    assert (c1.rejections, c1.first_pass, c1.sla_met, c1.response_s) == (0, True, True, 3600.0)
    assert c4.escalations == 1 and c4.first_offered_at < c4.first_engineer_accepted_at
    assert c5.sla_met is False and c5.response_s == 25 * 3600.0
    with platform.db.session() as session:
        kinds = set(session.scalars(select(ServiceEvent.event).where(ServiceEvent.case_id == c2.id)))
        milestones = ("created", "offered", "engineer_accepted", "on_site", "acceptance_requested")
        assert kinds == {*milestones, "customer_rejected", "accepted"}
        requests = session.scalar(
            select(ServiceEvent.id).where(ServiceEvent.case_id == c2.id, ServiceEvent.event == "acceptance_requested")
        )
        assert requests is not None
        p = november(session, clock.now() + timedelta(days=8))
    assert (p["closed"], p["matured"]) == (5, 5)
    assert p["ftfr"] == {"num": 3, "den": 5} and p["ftfr_pct"] == 60.0
    assert p["rework"] == {"num": 1, "den": 5} and p["rework_pct"] == 20.0
    assert p["recurrence"] == {"num": 1, "den": 5}
    assert p["first_pass_acceptance"] == {"num": 4, "den": 5} and p["first_pass_acceptance_pct"] == 80.0
    assert p["sla_met"] == {"num": 4, "den": 5} and p["sla_met_pct"] == 80.0
    assert p["escalated"] == {"num": 1, "den": 5} and p["escalations"] == 1
    # Created → on site: T1 T2 T3 1 h, T4 31 min + 1 h, T5 25 h: the median of the five is 1 h.
    assert p["response_time_s"]["n"] == 5 and p["response_time_s"]["median"] == 3600.0


def test_the_engineer_corrects_the_problem_code_at_close_out(platform, clock) -> None:  # noqa: ANN001
    from processes.errors import Invalid
    from processes.tickets.models import Ticket

    (device,) = distinct_devices(platform, 1)
    ticket_id = open_ticket(platform, device=device, text=TEXT)
    assert case(platform, ticket_id).problem_code == "coolant system"  # keyword "coolant" at intake
    clock.advance(minutes=5)
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    clock.advance(minutes=30)
    complete(platform, ticket_id, "on_site", {})
    clock.advance(minutes=30)
    close_out = {"root_cause": "wear", "prevention_suggestion": "定期检查", "fixed_first_time": True}
    try:
        complete(platform, ticket_id, "close_out", {**close_out, "problem_code": "no such code"})
    except Invalid as refused:
        assert [p.field for p in refused.problems] == ["problem_code"]
    else:
        raise AssertionError("an unknown problem code was accepted")
    assert case(platform, ticket_id).problem_code == "coolant system"
    complete(platform, ticket_id, "close_out", {**close_out, "problem_code": "spindle"})
    corrected = case(platform, ticket_id)
    with platform.db.session() as session:
        assert session.get(Ticket, ticket_id).problem_code == "spindle"
        (event,) = session.scalars(
            select(ServiceEvent).where(ServiceEvent.case_id == corrected.id, ServiceEvent.event == "problem_code_set")
        )
        assert event.data["code"] == "spindle" and event.at == clock.now()
    assert corrected.problem_code == "spindle"


LOGGED = ("on_site", "acceptance_requested", "customer_rejected", "accepted")
# What the event-log format can carry: not offers, engineer acceptances or escalations.
COMPARABLE = (
    "closed", "matured", "ftfr", "ftfr_pct", "rework", "rework_pct", "first_pass_acceptance",
    "first_pass_acceptance_pct", "sla_met", "sla_met_pct", "recurrence", "recurrence_pct",
    "response_time_s", "resolution_time_s", "address_error",
)  # fmt: skip


def test_the_same_history_imported_as_an_event_log_gives_identical_figures(platform, clock) -> None:  # noqa: ANN001
    from processes.devices.models import Device
    from processes.kpi.importing import import_history

    drive_five_tickets(platform, clock)
    as_of = clock.now() + timedelta(days=8)
    lines = []
    with platform.db.session() as session:
        live = november(session, as_of)
        for row in session.scalars(select(ServiceCase).order_by(ServiceCase.id)):
            device = session.get(Device, row.device_id)
            lines.append(
                {
                    "ticket": f"H-{row.key}",
                    "event": "created",
                    "at": row.created_at.isoformat(),
                    "device": device.serial,
                    "problem": row.problem_code,
                    "urgency": row.urgency,
                    "response_due": row.response_due_at.isoformat(),
                }
            )
            events = session.scalars(
                select(ServiceEvent).where(ServiceEvent.case_id == row.id, ServiceEvent.event.in_(LOGGED))
            )
            lines += [{"ticket": f"H-{row.key}", "event": e.event, "at": e.at.isoformat()} for e in events]
        # Forget the live cases (the tickets stay), then bring the same history back as an import.
        session.execute(delete(ServiceEvent))
        session.execute(delete(ServiceCase))
        session.commit()
        assert november(session, as_of)["closed"] == 0
    content = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()
    with platform.db.session() as session:
        report = import_history(session, "live.jsonl", content, timezone=TZ, now=clock.now())
        assert report.ok and report.written, report.problems
        session.commit()
    with platform.db.session() as session:
        imported = november(session, as_of)
        assert session.scalar(select(ServiceCase.imported).limit(1)) is True
    assert {k: imported[k] for k in COMPARABLE} == {k: live[k] for k in COMPARABLE}
    assert imported["ftfr"] == {"num": 3, "den": 5} and imported["recurrence"] == {"num": 1, "den": 5}

"""The import folds new cases in bulk (``importing.fold`` and the set-based ``relink``) instead of one
``recording.record`` per event: here both paths take the same random histories — several visits and
acceptance requests, rejections, repeated acceptances, open tickets, the same device and problem code
coming back — and must give every case the same columns, recurrence links included."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from processes.kpi.importing import import_history
from processes.kpi.models import ServiceCase
from processes.kpi.recording import open_case, record
from processes.platform import Platform

ZONE = ZoneInfo("Asia/Shanghai")
COMPARED = (
    "created_at",
    "response_due_at",
    "first_on_site_at",
    "first_acceptance_requested_at",
    "accepted_at",
    "rejections",
    "first_pass",
    "window_ends_at",
    "response_s",
    "resolution_s",
    "sla_met",
    "next_problem_at",
    "problem_code",
    "urgency",
)


def histories(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2026, 9, 1, 8, 0, tzinfo=ZONE)
    result = []
    for i in range(count):
        created = start + timedelta(hours=rng.randrange(0, 60 * 24))
        at = created
        events: list[tuple[str, datetime]] = []

        def later(hours: int = 30) -> datetime:
            nonlocal at
            at = at + timedelta(minutes=rng.randrange(1, hours * 60))
            return at

        for _ in range(rng.choice((0, 1, 1, 2))):
            events.append(("on_site", later()))
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            events.append(("acceptance_requested", later()))
            verdict = rng.choice(("customer_rejected", "accepted", "accepted", None))
            if verdict:
                events.append((verdict, later()))
        if any(kind == "accepted" for kind, _ in events) and events[-1][0] != "accepted":
            events.append(("accepted", later()))  # no rejection after the last acceptance
        result.append(
            {
                "key": str(i),
                "device": i % 5,
                "problem": rng.choice(("spindle", "coolant")),
                "urgency": rng.choice(("blue", "red")),
                "created": created,
                "due": created + timedelta(hours=rng.choice((4, 24))),
                "events": events,
            }
        )
    return result


def as_event_log(items: list[dict[str, Any]], cut: bool = False, seed: int = 0) -> bytes:
    """The histories as JSON Lines; ``cut``: only a first part of each one's milestones (an earlier export)."""
    rng = random.Random(seed)
    lines = []
    for h in items:
        lines.append(
            {
                "ticket": f"I-{h['key']}",
                "event": "created",
                "at": h["created"].isoformat(),
                "device": f"SN-{h['device']}",
                "problem": h["problem"],
                "urgency": h["urgency"],
                "response_due": h["due"].isoformat(),
            }
        )
        events = h["events"]
        if cut:
            n = rng.randrange(len(events) + 1)
            while n and events[n - 1][0] == "customer_rejected" and any(k == "accepted" for k, _ in events[:n]):
                n -= 1  # an export never ends on a rejection after an acceptance (the ticket reopened)
            events = events[:n]
        lines += [{"ticket": f"I-{h['key']}", "event": kind, "at": at.isoformat()} for kind, at in events]
    return "\n".join(json.dumps(line) for line in lines).encode()


def test_bulk_import_and_one_by_one_recording_fold_alike(platform: Platform) -> None:
    items = histories(80, seed=14)
    tz, now = platform.settings.timezone, platform.engine.clock.now()
    with platform.db.session() as session:
        # Part of the milestones first, then all: new cases go the bulk way, additions through record().
        assert import_history(session, "part.jsonl", as_event_log(items, cut=True), timezone=tz, now=now).ok
    with platform.db.session() as session:
        report = import_history(session, "all.jsonl", as_event_log(items), timezone=tz, now=now)
        assert report.ok and report.extended_tickets > 10, report.problems
    with platform.db.session() as session:
        rng = random.Random(7)
        for h in items:
            case = open_case(
                session,
                key=f"L-{h['key']}",
                created_at=h["created"],
                source="import",
                device_key=f"recorded-{h['device']}",
                problem_code=h["problem"],
                urgency=h["urgency"],
                response_due_at=h["due"],
            )
            for kind, at in rng.sample(h["events"], len(h["events"])):  # in any order
                record(session, case, kind, at, source="import")
    with platform.db.session() as session:
        cases = {c.key: c for c in session.scalars(select(ServiceCase))}
        recurrences = 0
        for h in items:
            bulk, one_by_one = cases[f"I-{h['key']}"], cases[f"L-{h['key']}"]
            assert {c: getattr(bulk, c) for c in COMPARED} == {c: getattr(one_by_one, c) for c in COMPARED}, h
            recurrences += bulk.next_problem_at is not None
        assert recurrences > 10  # the histories do exercise the recurrence links

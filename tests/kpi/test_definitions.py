"""The issue-14 definitions on a hand-built history, every figure computed by hand below.

The histories go in through ``processes.kpi.recording`` (the one way events enter) on the real database;
the expected numbers are worked out in the comments from the definitions in ``docs/kpis.md``, not
from the code.  Plant clock: Asia/Shanghai (UTC+8); the period is November 2026 on that clock and the
evaluation time is 2026-12-01 00:00 local unless a test says otherwise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete

from processes.kpi import measures
from processes.kpi.models import ServiceCase
from processes.kpi.periods import parse_moment, periods
from processes.kpi.recording import open_case, record

TZ = "Asia/Shanghai"
NOV, DEC = "2026-11-01", "2026-12-01"


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(TZ))


def history(
    session: Any,
    key: str,
    device: str,
    problem: str,
    created: str,
    *events: tuple[str, str],
    due: str | None = None,
) -> ServiceCase:
    case = open_case(
        session,
        key=key,
        created_at=local(created),
        source="import",
        device_key=device,
        problem_code=problem,
        response_due_at=local(due) if due else None,
    )
    for event, at in events:
        record(session, case, event, local(at), source="import")
    return case


REQ, REJ, ACC, ON = "acceptance_requested", "customer_rejected", "accepted", "on_site"


def november_history(session: Any) -> None:
    # A: first-time fix, on site before the deadline.
    history(session, "A", "d1", "P", "2026-11-02T09:00", (ON, "2026-11-02T10:00"), (REQ, "2026-11-02T12:00"),
            (ACC, "2026-11-02T13:00"), due="2026-11-02T11:00")  # fmt: skip
    # B: rejected twice, then accepted: rework, not first pass.
    history(session, "B", "d2", "P", "2026-11-03T09:00", (ON, "2026-11-03T09:30"), (REQ, "2026-11-03T10:00"),
            (REJ, "2026-11-03T11:00"), (REQ, "2026-11-03T12:00"), (REJ, "2026-11-03T13:00"),
            (REQ, "2026-11-03T14:00"), (ACC, "2026-11-03T15:00"), due="2026-11-03T10:00")  # fmt: skip
    # C: SLA breached (on site 09:30, due 09:00); same device + problem again exactly 7 × 24 h later.
    history(session, "C", "d3", "P", "2026-11-04T07:00", (ON, "2026-11-04T09:30"), (REQ, "2026-11-04T09:45"),
            (ACC, "2026-11-04T10:00"), due="2026-11-04T09:00")  # fmt: skip
    history(session, "C-again-at-7d", "d3", "P", "2026-11-11T10:00")
    # D: same device + problem at the acceptance instant (not strictly after) and 7 d + 1 s after: no recurrence.
    history(session, "D", "d4", "P", "2026-11-05T08:00", (ON, "2026-11-05T08:30"), (ACC, "2026-11-05T10:00"),
            due="2026-11-05T09:00")  # fmt: skip
    history(session, "D-same-instant", "d4", "P", "2026-11-05T10:00")
    history(session, "D-too-late", "d4", "P", "2026-11-12T10:00:01")
    # E: another problem code on the device, the same code on another device: no recurrence; no deadline.
    history(session, "E", "d5", "P", "2026-11-06T08:00", (ON, "2026-11-06T09:00"), (ACC, "2026-11-06T10:00"))
    history(session, "E-other-code", "d5", "Q", "2026-11-07T08:00")
    history(session, "E-other-device", "d6", "P", "2026-11-07T08:00")
    # F: accepted 28 Nov, its window ends 5 Dec: closed, not matured (its recurrence does not count yet).
    history(session, "F", "d7", "P", "2026-11-28T08:00", (ON, "2026-11-28T08:20"), (ACC, "2026-11-28T10:00"),
            due="2026-11-28T09:00")  # fmt: skip
    history(session, "F-again", "d7", "P", "2026-11-29T08:00")
    # G: accepted 24 Nov 00:00, the window ends exactly at the evaluation time (matured) and the same
    # problem comes back at that very instant (inside the inclusive window); never on site: SLA not met.
    history(session, "G", "d8", "P", "2026-11-23T22:00", (ACC, "2026-11-24T00:00"))
    history(session, "G-again-at-end", "d8", "P", "2026-12-01T00:00")
    # H: never accepted: not closed.
    history(session, "H", "d9", "P", "2026-11-10T08:00", (ON, "2026-11-10T09:00"), (REQ, "2026-11-10T10:00"))
    # I: accepted 31 Oct 23:30 local (15:30 UTC): October.  J: accepted 1 Dec 00:00: December (end excluded).
    history(session, "I", "d10", "P", "2026-10-31T20:00", (ACC, "2026-10-31T23:30"))
    history(session, "J", "d11", "P", "2026-11-30T20:00", (ACC, "2026-12-01T00:00"))
    # K: accepted, reopened by a rejection, accepted again: closed at the LAST acceptance (10 Nov), rework
    # (a rejection before it), yet first pass (its first acceptance request was accepted).
    history(session, "K", "d12", "P", "2026-11-08T07:00", (ON, "2026-11-08T07:40"), (REQ, "2026-11-08T09:00"),
            (ACC, "2026-11-08T10:00"), (REJ, "2026-11-09T10:00"), (REQ, "2026-11-10T09:00"),
            (ACC, "2026-11-10T10:00"), due="2026-11-08T09:00")  # fmt: skip


def report(session: Any, start: str = NOV, end: str = DEC, by: str | None = None, as_of: str = DEC) -> dict[str, Any]:
    return measures.report(
        session,
        start=parse_moment(start, TZ),
        end=parse_moment(end, TZ),
        by=by,
        as_of=parse_moment(as_of, TZ),
        timezone=TZ,
    )


def test_november_figures_match_the_hand_computed_ones(bare_platform) -> None:  # noqa: ANN001
    with bare_platform.db.session() as session:
        november_history(session)
        session.commit()
        (p,) = report(session)["periods"]
    # Closed in November: A B C D E F G K (H open, I October, J December) = 8.
    assert p["closed"] == 8
    # Matured (accepted + 7 d <= 1 Dec 00:00): all but F = 7 (G exactly at the evaluation time).
    assert p["matured"] == 7
    # Recurrence among matured: C (at exactly 7 × 24 h) and G (at its window end) = 2 of 7.
    assert p["recurrence"] == {"num": 2, "den": 7} and p["recurrence_pct"] == 28.57
    # FTFR: matured without rework (B, K) and without recurrence (C, G): A D E = 3 of 7.
    assert p["ftfr"] == {"num": 3, "den": 7} and p["ftfr_pct"] == 42.86
    # Rework: B (two rejections), K (a rejection before its last acceptance) = 2 of 8.
    assert p["rework"] == {"num": 2, "den": 8} and p["rework_pct"] == 25.0
    # First pass: everyone but B = 7 of 8.
    assert p["first_pass_acceptance"] == {"num": 7, "den": 8} and p["first_pass_acceptance_pct"] == 87.5
    # SLA met: A B D F K; C late, E without deadline, G never on site = 5 of 8.
    assert p["sla_met"] == {"num": 5, "den": 8} and p["sla_met_pct"] == 62.5
    # Response (on site − created), s: F 1200, B 1800, D 1800, K 2400, A 3600, E 3600, C 9000 → 2400.
    assert p["response_time_s"] == {"median": 2400.0, "n": 7}
    # Resolution (last acceptance − created), s: D E F G 7200, C 10800, A 14400, B 21600, K 183600
    # → mean of the 4th and 5th = (7200 + 10800) / 2.
    assert p["resolution_time_s"] == {"median": 9000.0, "n": 8}
    assert p["accept_time_s"] == {"median": None, "n": 0}
    assert p["escalated"] == {"num": 0, "den": 8} and p["escalations"] == 0
    assert p["from"] == "2026-11-01T00:00:00+08:00" and p["to"] == "2026-12-01T00:00:00+08:00"


def test_drill_down_lists_the_tickets_behind_each_figure(bare_platform) -> None:  # noqa: ANN001
    with bare_platform.db.session() as session:
        november_history(session)
        session.commit()
        span = {"start": parse_moment(NOV, TZ), "end": parse_moment(DEC, TZ), "as_of": parse_moment(DEC, TZ)}
        assert measures.cases(session, measure="ftfr", part="num", **span) == ["A", "D", "E"]
        assert measures.cases(session, measure="recurrence", part="num", **span) == ["C", "G"]
        assert measures.cases(session, measure="rework", part="num", **span) == ["B", "K"]
        assert measures.cases(session, measure="closed", part="den", **span) == ["A", "B", "C", "D", "E", "K", "G", "F"]
        assert "F" not in measures.cases(session, measure="ftfr", part="den", **span)


def test_months_and_a_period_whose_windows_have_not_ended(bare_platform) -> None:  # noqa: ANN001
    with bare_platform.db.session() as session:
        november_history(session)
        session.commit()
        october, november, december = report(session, "2026-10-01", "2027-01-01", "month")["periods"]
    # October: I alone, matured, fixed first time.
    assert (october["label"], october["closed"], october["ftfr_pct"]) == ("2026-10", 1, 100.0)
    assert october["ftfr"] == {"num": 1, "den": 1}
    assert november["closed"] == 8
    # December: J accepted at 00:00 on 1 Dec, its window ends 8 Dec, after the evaluation time: 0/0 → null.
    assert december["closed"] == 1 and december["matured"] == 0
    assert december["ftfr"] == {"num": 0, "den": 0} and december["ftfr_pct"] is None
    assert december["to"] == "2027-01-01T00:00:00+08:00"


def test_a_later_evaluation_time_matures_the_young_ticket(bare_platform) -> None:  # noqa: ANN001
    with bare_platform.db.session() as session:
        november_history(session)
        session.commit()
        (p,) = report(session, as_of="2026-12-05T10:00")["periods"]  # F's window ends now: matured, recurred (F-again)
    assert p["matured"] == 8 and p["ftfr"] == {"num": 3, "den": 8} and p["recurrence"] == {"num": 3, "den": 8}


def test_weeks_are_iso_weeks_on_the_plant_clock_clipped_to_the_range(bare_platform) -> None:  # noqa: ANN001
    with bare_platform.db.session() as session:
        november_history(session)
        session.commit()
        weeks = report(session, "2026-11-01", "2026-11-10", "week")["periods"]
    assert [(w["label"], w["from"][:10], w["to"][:10], w["closed"]) for w in weeks] == [
        ("2026-W44", "2026-11-01", "2026-11-02", 0),  # Sunday 1 Nov: the tail of the week from Monday 26 Oct
        ("2026-W45", "2026-11-02", "2026-11-09", 5),  # A B C D E
        ("2026-W46", "2026-11-09", "2026-11-10", 0),  # K's last acceptance is 10 Nov: outside
    ]


def test_recording_is_idempotent_and_order_independent(bare_platform) -> None:  # noqa: ANN001
    with bare_platform.db.session() as session:
        case = history(session, "X", "d1", "P", "2026-11-02T09:00")
        # Verdicts arriving out of order fold as if in order: rejected 10:00, accepted 12:00.
        assert record(session, case, ACC, local("2026-11-02T12:00"), source="import")
        assert record(session, case, REJ, local("2026-11-02T10:00"), source="import")
        assert not record(session, case, REJ, local("2026-11-02T10:00"), source="import")
        # The same instant written in UTC is the same milestone.
        assert not record(session, case, ACC, local("2026-11-02T12:00").astimezone(ZoneInfo("UTC")), source="import")
        session.commit()
        assert (case.rejections, case.first_pass, case.accepted_at) == (1, False, local("2026-11-02T12:00"))
        with pytest.raises(ValueError, match="unknown KPI event"):
            record(session, case, "teleported", local("2026-11-02T12:00"), source="import")
        with pytest.raises(ValueError, match="aware"):
            record(session, case, ACC, datetime(2026, 11, 2, 12), source="import")


def test_periods_reject_an_empty_range_and_unknown_units() -> None:
    with pytest.raises(ValueError):
        periods(local("2026-11-02T00:00"), local("2026-11-01T00:00"), None, TZ)
    with pytest.raises(ValueError):
        periods(local("2026-11-01T00:00"), local("2026-12-01T00:00"), "fortnight", TZ)
    with pytest.raises(ValueError):
        parse_moment("2026-13-01", TZ)
    assert parse_moment("2026-11-01T08:00Z", TZ) == local("2026-11-01T16:00")


def test_recurrence_follows_insertion_order_and_problem_code_corrections(bare_platform) -> None:  # noqa: ANN001
    with bare_platform.db.session() as session:
        # The later ticket is stored first (an import may list it first); the acceptance comes after.
        history(session, "later", "d1", "P", "2026-11-05T09:00")
        history(session, "earlier", "d1", "P", "2026-11-01T09:00", (ACC, "2026-11-02T09:00"))
        history(session, "other", "d2", "P", "2026-11-01T09:00", (ACC, "2026-11-02T09:00"))
        session.commit()
        (p,) = report(session)["periods"]
        assert p["recurrence"] == {"num": 1, "den": 2}
        # The later ticket's problem code is corrected to Q: the earlier one no longer recurred.
        later = session.query(ServiceCase).filter_by(key="later").one()
        record(session, later, "problem_code_set", local("2026-11-06T09:00"), source="import", data={"code": "Q"})
        session.commit()
        (p,) = report(session)["periods"]
        assert p["recurrence"] == {"num": 0, "den": 2} and p["ftfr"] == {"num": 2, "den": 2}
        # …and back to P: recurred again.
        record(session, later, "problem_code_set", local("2026-11-07T09:00"), source="import", data={"code": "P"})
        session.commit()
        (p,) = report(session)["periods"]
        assert p["recurrence"] == {"num": 1, "den": 2}
        assert measures.cases(session, measure="recurrence", part="num", start=parse_moment(NOV, TZ),
                              end=parse_moment(DEC, TZ), as_of=parse_moment(DEC, TZ)) == ["earlier"]  # fmt: skip


@pytest.mark.parametrize("adversarial", [False, True])
def test_medians_of_large_periods_are_exact(bare_platform, adversarial: bool) -> None:  # noqa: ANN001
    """Above 4,000 values a median reads a sample first; the answer must still be the exact median,
    also when the sampled ids are unrepresentative (then the whole period is sorted)."""
    import random
    import statistics
    from datetime import timedelta

    from sqlalchemy import insert

    rng = random.Random(5)
    accepted = local("2026-11-10T10:00")
    rows = []
    for i in range(1, 6002):
        value = float(rng.randrange(60, 200_000))
        if adversarial:  # every id the sample reads (6001 // 1000 = every 6th) holds a tiny value
            value = 1.0 if i % 6 == 0 else value
        rows.append(
            {
                "id": i, "key": f"M{i}", "imported": True, "device_key": "", "device_model": "", "device_type": "",
                "problem_code": "", "urgency": "", "region": "", "engineer_group": "", "attributes": {},
                "created_at": accepted - timedelta(seconds=value), "rejections": 0, "accepted_at": accepted,
                "first_pass": True, "window_ends_at": accepted + timedelta(days=7), "response_s": value,
                "resolution_s": value, "sla_met": False, "escalations": 0, "cross_region": False,
                "address_error": False,
            }
        )  # fmt: skip
    with bare_platform.db.session() as session:
        session.execute(insert(ServiceCase), rows)
        session.commit()
        (p,) = report(session)["periods"]
    values = [r["response_s"] for r in rows]
    assert p["response_time_s"] == {"median": round(statistics.median(values), 1), "n": 6001}
    rows.pop()  # an even count: the mean of the two middle values
    with bare_platform.db.session() as session:
        session.execute(delete(ServiceCase).where(ServiceCase.id == 6001))
        session.commit()
        (p,) = report(session)["periods"]
    assert p["resolution_time_s"] == {"median": round(statistics.median(r["resolution_s"] for r in rows), 1), "n": 6000}

"""The impact preview's numbers against tickets whose outcome is computed by hand (issue 12 §2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from impact_history import History, candidate

from engine.decisions import DecisionError, compile_decision
from processes.errors import Invalid
from processes.impact import service
from processes.platform import Platform

M = timedelta(minutes=1)


def draft_of(platform: Platform) -> dict[str, str]:
    """The running tables with: red responds within 1 h (was 30 min), yellow offers time out after
    10 min (was 30), blue dispatch weighs distance 0.9 (was 0.3) and first-time fixes 0.05 (was 0.35)."""
    with platform.db.session() as session:
        files = service.current_files(session, platform.engine, "ticket_lifecycle")
    response = files["urgency_response.dmn"]
    response = response.replace('"Literal_red_duration"><text>"PT30M"', '"Literal_red_duration"><text>"PT1H"')
    response = response.replace('"Literal_yellow_accept"><text>"PT30M"', '"Literal_yellow_accept"><text>"PT10M"')
    policy = files["dispatch_policy.dmn"]
    policy = policy.replace('"Blue_w_distance"><text>0.3<', '"Blue_w_distance"><text>0.9<')
    policy = policy.replace('"Blue_w_ftfr"><text>0.35<', '"Blue_w_ftfr"><text>0.05<')
    assert response != files["urgency_response.dmn"] and policy != files["dispatch_policy.dmn"]
    return {"urgency_response.dmn": response, "dispatch_policy.dmn": policy}


def test_the_preview_counts_what_the_draft_changes(platform: Platform) -> None:
    now = platform.engine.clock.now()
    day = now - timedelta(days=10)
    with platform.db.session() as session:
        h = History(session)
        a, b, c = h.engineers[:3]
        # Response deadlines (red 30 min -> 1 h; orange stays 1 h).
        late_red = h.ticket("red", day, due_in=30 * M, on_site_after=45 * M)  # breached -> not breached
        h.ticket("red", day, due_in=30 * M, on_site_after=20 * M)  # in time either way
        h.ticket("red", day, due_in=30 * M)  # nobody came: breached either way
        orange = h.ticket("orange", day, due_in=60 * M, on_site_after=120 * M)  # breached either way
        fresh = h.ticket("yellow", now - 60 * M, due_in=24 * 60 * M)  # deadline not yet passed: open
        h.ticket("red", now - timedelta(days=100), due_in=30 * M, on_site_after=45 * M)  # outside 90 days
        h.ticket("red", day, due_in=30 * M, on_site_after=45 * M, process_id="weekly_report")  # other process
        # Escalations (yellow 30 min -> 10 min; orange unchanged).
        h.offer(fresh, a, fresh.created_at, timeout=30 * M, answered_after=30 * M, outcome="timed_out")  # earlier
        h.offer(fresh, b, fresh.created_at + 30 * M, timeout=30 * M, answered_after=15 * M, outcome="accepted")  # new
        h.offer(orange, c, orange.created_at, timeout=30 * M, answered_after=20 * M, outcome="accepted")  # unchanged
        quick = h.ticket("yellow", day, due_in=24 * 60 * M, on_site_after=60 * M)
        h.offer(quick, a, day, timeout=30 * M, answered_after=5 * M, outcome="accepted")  # in time either way
        # Dispatch (blue weights change; red does not).
        moved = h.ticket("blue", day, due_in=72 * 60 * M, on_site_after=60 * M)
        # before: a 0.3*0.2+0.35*1.0 = 0.41 > b 0.3*0.9+0.35*0.3 = 0.375; after: a 0.23 < b 0.825
        h.recommendation(
            moved, [candidate(a, distance=0.2, first_time_fix=1.0), candidate(b, distance=0.9, first_time_fix=0.3)]
        )
        kept = h.ticket("blue", day, due_in=72 * 60 * M, on_site_after=60 * M)
        h.recommendation(
            kept, [candidate(b, distance=0.9, first_time_fix=0.9), candidate(a, distance=0.1, first_time_fix=1.0)]
        )
        h.recommendation(
            late_red, [candidate(a, distance=0.2, first_time_fix=1.0), candidate(b, distance=0.9, first_time_fix=0.3)]
        )

    with platform.db.session() as session:
        report = service.preview(session, platform.engine, "ticket_lifecycle", draft_of(platform), days=90, now=now)

    assert report.tickets == 8  # the 100-day-old ticket and the other process's are not in the window
    assert (report.breaches_before, report.breaches_after, report.open_deadlines) == (3, 2, 1)
    assert [(r["ticket"], r["breached_before"], r["breached_after"]) for r in report.breach_changes] == [
        (late_red.number, True, False)
    ]
    assert (report.escalations_before, report.escalations_after) == (1, 2)
    assert (report.escalations_earlier, report.escalations_later, report.escalations_new) == (1, 0, 1)
    earlier = next(r for r in report.escalation_changes if r["change"] == "earlier")
    assert (earlier["ticket"], earlier["minutes"]) == (fresh.number, -20)
    assert report.recommendations == 2  # re-scored: the blue ones (red dispatch rules do not change)
    assert report.reassigned_count == 1
    [change] = report.reassigned
    assert change["ticket"] == moved.number
    assert (change["before"]["engineer_id"], change["after"]["engineer_id"]) == (str(a.id), str(b.id))
    red = next(r for r in report.rules if r["urgency"] == "red")
    assert (red["response_before"], red["response_after"]) == ("PT30M", "PT1H")


def test_a_draft_that_changes_nothing_changes_nothing(platform: Platform) -> None:
    now = platform.engine.clock.now()
    with platform.db.session() as session:
        h = History(session)
        a, b = h.engineers[:2]
        t = h.ticket("red", now - timedelta(days=3), due_in=30 * M, on_site_after=45 * M)
        h.offer(t, a, t.created_at, timeout=30 * M, answered_after=None, outcome="timed_out")
        h.recommendation(
            t, [candidate(a, distance=0.2, first_time_fix=1.0), candidate(b, distance=0.9, first_time_fix=0.3)]
        )
        files = service.current_files(session, platform.engine, "ticket_lifecycle")
    with platform.db.session() as session:
        same = {"urgency_response.dmn": files["urgency_response.dmn"]}
        report = service.preview(session, platform.engine, "ticket_lifecycle", same, days=90, now=now)
    assert (report.breaches_before, report.breaches_after) == (1, 1)
    assert (report.escalations_before, report.escalations_after, report.reassigned_count) == (1, 1, 0)
    assert report.breach_changes == [] and report.escalation_changes == []


@pytest.mark.parametrize("days", ["0", "-3", "abc", "99999", "1.5"])
def test_a_bad_window_is_refused_naming_the_field(platform: Platform, days: str) -> None:
    with platform.db.session() as session, pytest.raises(Invalid) as refused:
        service.request(
            session,
            platform.engine,
            "ticket_lifecycle",
            draft_of(platform),
            days=days,
            actor="owner",
            now=platform.engine.clock.now(),
            source="upload",
        )
    assert [(p.field, p.code) for p in refused.value.problems] == [("days", "impact_days")]


def test_an_unreadable_draft_table_is_refused_by_name_and_nothing_is_queued(platform: Platform) -> None:
    from sqlalchemy import func, select

    from processes.versions.models import OwnerJob

    with platform.db.session() as session, pytest.raises(Invalid) as refused:
        service.request(
            session,
            platform.engine,
            "ticket_lifecycle",
            {"urgency_response.dmn": "<definitions"},
            days="90",
            actor="owner",
            now=platform.engine.clock.now(),
            source="upload",
        )
    [problem] = refused.value.problems
    assert (problem.field, problem.code) == ("draft", "impact_dmn")
    assert "urgency_response.dmn" in problem.params["error"]
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(OwnerJob)) == 0


def test_decisions_are_the_engines_sandboxed_evaluation() -> None:
    table = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">
  <decision id="probe" name="probe"><decisionTable id="t" hitPolicy="UNIQUE">
    <input id="i"><inputExpression id="e" typeRef="string"><text>urgency</text></inputExpression></input>
    <output id="o" name="out" typeRef="string" />
    <rule id="r"><inputEntry id="ie"><text>"red"</text></inputEntry>
      <outputEntry id="oe"><text>().__class__.__base__.__subclasses__()</text></outputEntry></rule>
  </decisionTable></decision></definitions>"""
    decision = compile_decision({"probe.dmn": table}, "probe")
    assert decision.evaluate({"urgency": "blue"}) == {}
    with pytest.raises(DecisionError):
        decision.evaluate({"urgency": "red"})


def test_a_fixed_accept_timer_in_the_draft_diagram_is_the_timeout_for_every_urgency(platform: Platform) -> None:
    now = platform.engine.clock.now()
    with platform.db.session() as session:
        h = History(session)
        a = h.engineers[0]
        t = h.ticket("orange", now - timedelta(days=2), due_in=60 * M, on_site_after=50 * M)
        h.offer(t, a, t.created_at, timeout=30 * M, answered_after=20 * M, outcome="accepted")  # new at 10 min
        files = service.current_files(session, platform.engine, "ticket_lifecycle")
    old = '<bpmn:timeDate>offer["accept_due_at"]</bpmn:timeDate>'
    assert old in files["ticket_lifecycle.bpmn"]
    diagram = files["ticket_lifecycle.bpmn"].replace(old, "<bpmn:timeDuration>PT10M</bpmn:timeDuration>")
    with platform.db.session() as session:
        report = service.preview(
            session, platform.engine, "ticket_lifecycle", {"ticket_lifecycle.bpmn": diagram}, days=90, now=now
        )
    assert (report.escalations_before, report.escalations_new, report.escalations_after) == (0, 1, 1)
    assert (report.breaches_before, report.breaches_after) == (0, 0)

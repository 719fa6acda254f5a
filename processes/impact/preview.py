"""What a draft would have changed over the last N days of real tickets (issue 12 §2, "Preview impact").

A process owner about to change a response deadline, a dispatch weight or the accept timeout asks:
"had this been live, what would have been different?".  The answer is computed from what is stored —
tickets (created, on site, the deadline they had), their first recommendation (every shortlisted
engineer's score factors) and their offers (offered, answered, timed out) — against the draft's
decision tables, evaluated by the engine (:mod:`engine.decisions`, the sandboxed evaluator a deployment
uses), never by a copy of the tables.  Nothing is written: the preview reads and counts.

Three answers:

- **Response deadlines**: the draft's ``response_duration`` for the ticket's urgency from its creation;
  a ticket breaches when nobody was on site by the deadline (the rule of ``check_response_deadline``).
  Before is the deadline the ticket really had.  A deadline not yet passed with nobody on site is open,
  counted in neither.
- **Dispatch**: the shortlisted candidates re-scored with the draft's weights (the stored normalised
  factors times the weights, signed as the dispatcher signs them) and its hard distance rules (may go
  beyond an engineer's radius, never farther than); the ticket "goes to another engineer" when the
  first offer would have gone to someone else.  Engineers outside the stored shortlist were never
  scored factor by factor, so they cannot enter it — the page says so.
- **Escalations**: each offer against the draft's accept timeout.  An answer later than the new
  timeout would have been escalated (new); a timed-out offer escalates earlier or later by the
  difference (whether its engineer would have answered in the extra time is not known, so it stays an
  escalation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lxml import etree

from engine.decisions import Decision, DecisionError, compile_decision
from engine.isotime import check_duration, duration_from
from handlers.dispatch.scoring import factor_weights

from ..dispatch import roster
from ..errors import FieldProblem, Invalid

RESPONSE_DECISION = "urgency_response"
DISPATCH_DECISION = "dispatch_policy"
ACCEPT_TIMER = "no_answer"  # the lifecycle's boundary timer on the engineer's accept task
DEFAULT_DAYS = 90
MAX_DAYS = 3660
LISTED = 200  # tickets listed per section; the counts cover every ticket
_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


@dataclass(frozen=True)
class TicketFacts:
    """What the preview reads of one ticket (plain values, loaded in bulk)."""

    id: int
    number: str
    urgency: str
    created_at: datetime
    response_due_at: datetime | None
    on_site_at: datetime | None
    engineer_id: int | None
    device_type: str | None = None


@dataclass(frozen=True)
class OfferFacts:
    ticket_id: int
    engineer_id: int
    offered_at: datetime
    accept_due_at: datetime | None
    answered_at: datetime | None
    outcome: str | None


@dataclass(frozen=True)
class DraftRules:
    """The draft's and the running version's answers, compiled once."""

    before_response: Decision | None
    after_response: Decision | None
    before_dispatch: Decision | None
    after_dispatch: Decision | None
    accept_timeout_override: str | None  # the draft's accept timer as a fixed duration, if it is one


@dataclass
class ImpactReport:
    days: int
    since: datetime
    tickets: int = 0
    breaches_before: int = 0
    breaches_after: int = 0
    open_deadlines: int = 0
    breach_changes: list[dict[str, Any]] = field(default_factory=list)
    reassigned_count: int = 0
    reassigned: list[dict[str, Any]] = field(default_factory=list)
    recommendations: int = 0
    offers: int = 0
    escalations_before: int = 0
    escalations_after: int = 0
    escalations_earlier: int = 0
    escalations_later: int = 0
    escalations_new: int = 0
    escalation_changes: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["since"] = self.since.isoformat()
        return data


def check_days(raw: object) -> int:
    """The look-back in days from a form value; a clear error naming the field otherwise."""
    text = str(raw if raw is not None else "").strip() or str(DEFAULT_DAYS)
    if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise Invalid("invalid_input", problems=[FieldProblem("days", "impact_days", {"max": MAX_DAYS})])
    return int(text)


def compile_rules(current: Mapping[str, str], draft: Mapping[str, str], now: datetime) -> DraftRules:
    """Both sides' decision tables; a draft whose table cannot be read is refused naming the file."""

    def table(files: Mapping[str, str], decision: str, side: str) -> Decision | None:
        try:
            return compile_decision(files, decision, now)
        except DecisionError as err:
            if "no decision table" in str(err):
                return None
            raise Invalid("invalid_input", problems=[FieldProblem(side, "impact_dmn", {"error": str(err)})]) from err

    return DraftRules(
        table(current, RESPONSE_DECISION, "version"),
        table(draft, RESPONSE_DECISION, "draft"),
        table(current, DISPATCH_DECISION, "version"),
        table(draft, DISPATCH_DECISION, "draft"),
        _fixed_accept_timer(draft),
    )


def _fixed_accept_timer(files: Mapping[str, str]) -> str | None:
    """The accept timer's value when the draft made it a fixed duration (``<timeDuration>PT20M``)
    instead of the offer's computed deadline; None when it still follows the decision table."""
    for name, text in files.items():
        if not name.endswith((".bpmn", ".bpmn20.xml")):
            continue
        try:
            root = etree.fromstring(text.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False))
        except etree.XMLSyntaxError as err:
            raise Invalid(
                "invalid_input", problems=[FieldProblem("draft", "impact_xml", {"file": name, "error": str(err)})]
            ) from err
        for node in root.iter(f"{{{_BPMN}}}boundaryEvent"):
            if node.get("id") != ACCEPT_TIMER:
                continue
            duration = node.find(f".//{{{_BPMN}}}timeDuration")
            value = (duration.text or "").strip().strip("\"'") if duration is not None else ""
            if value:
                try:
                    check_duration(value)
                except ValueError:
                    return None  # an expression: it follows the data, which the table decides
                return value
    return None


def _duration(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass
class _Memo:
    """What one evaluation computes once: fixed durations, and the policy of each distinct table row."""

    durations: dict[str, timedelta | None] = field(default_factory=dict)
    policies: dict[str, tuple[Any, dict[str, float]]] = field(default_factory=dict)


def _after(start: datetime, duration: str | None, memo: _Memo | None = None) -> datetime | None:
    """``start`` plus an ISO duration; one without years or months has one length, computed once."""
    if not duration:
        return None
    fixed = memo.durations.get(duration, ...) if memo is not None else ...
    if fixed is ...:
        date_part = duration.split("T", 1)[0]
        fixed = None if ("Y" in date_part or "M" in date_part) else duration_from(duration, start)
        if memo is not None:
            memo.durations[duration] = fixed
    return start + (fixed if fixed is not None else duration_from(duration, start))


def dispatch_inputs(ticket: TicketFacts) -> dict[str, object]:
    """What the lifecycle's decision tables see of a ticket when they decide (its start data)."""
    return {"urgency": ticket.urgency, "device_type": ticket.device_type}


def dispatch_changed(rules: DraftRules, tickets: Iterable[TicketFacts]) -> list[int]:
    """The tickets whose dispatch row the draft changes: only their stored shortlists need reading."""
    if rules.after_dispatch is None:
        return []
    changed = []
    for ticket in tickets:
        inputs = dispatch_inputs(ticket)
        old = rules.before_dispatch.evaluate(inputs) if rules.before_dispatch else {}
        if rules.after_dispatch.evaluate(inputs) != old:
            changed.append(ticket.id)
    return changed


def evaluate(
    rules: DraftRules,
    tickets: Iterable[TicketFacts],
    recommendations: Mapping[int, dict[str, Any]],
    offers: Mapping[int, list[OfferFacts]],
    *,
    now: datetime,
    days: int,
    progress: Callable[[int], None] | None = None,
) -> ImpactReport:
    """Count what the draft would have changed; ``progress(n)`` is told every 500 tickets."""
    report = ImpactReport(days=days, since=now - timedelta(days=days))
    rule_rows: dict[str, dict[str, Any]] = {}
    memo = _Memo()
    for index, ticket in enumerate(tickets, 1):
        report.tickets += 1
        inputs = dispatch_inputs(ticket)
        before = rules.before_response.evaluate(inputs) if rules.before_response else {}
        after = rules.after_response.evaluate(inputs) if rules.after_response else before
        _note_rule(rule_rows, ticket.urgency, before, after)
        _deadline(report, ticket, before, after, now, memo)
        recommendation = recommendations.get(ticket.id)
        if recommendation is not None:
            report.recommendations += 1
            _dispatch(report, rules, ticket, recommendation, inputs, memo)
        accept_after = rules.accept_timeout_override or _duration(after.get("accept_timeout"))
        for offer in offers.get(ticket.id, ()):
            report.offers += 1
            _escalation(report, ticket, offer, accept_after, now, memo)
        if progress is not None and index % 500 == 0:
            progress(index)
    report.escalations_after = report.escalations_before + report.escalations_new
    report.rules = [rule_rows[u] for u in sorted(rule_rows, key=_urgency_order)]
    return report


def _urgency_order(urgency: str) -> int:
    order = ("red", "orange", "yellow", "blue")
    return order.index(urgency) if urgency in order else len(order)


def _note_rule(
    rows: dict[str, dict[str, Any]], urgency: str, before: Mapping[str, Any], after: Mapping[str, Any]
) -> None:
    row = rows.setdefault(
        urgency,
        {
            "urgency": urgency,
            "response_before": before.get("response_duration"),
            "response_after": after.get("response_duration"),
            "accept_before": before.get("accept_timeout"),
            "accept_after": after.get("accept_timeout"),
            "tickets": 0,
        },
    )
    row["tickets"] += 1


def _breached(due: datetime | None, on_site: datetime | None, now: datetime) -> bool | None:
    """True/False once the deadline has passed or someone arrived; None while it is still open."""
    if due is None:
        return None
    if on_site is not None:
        return on_site > due
    return True if due <= now else None


def _deadline(
    report: ImpactReport,
    ticket: TicketFacts,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    now: datetime,
    memo: _Memo,
) -> None:
    due_before = ticket.response_due_at or _after(ticket.created_at, _duration(before.get("response_duration")), memo)
    new_duration = _duration(after.get("response_duration"))
    due_after = _after(ticket.created_at, new_duration, memo) if new_duration else due_before
    was, will = _breached(due_before, ticket.on_site_at, now), _breached(due_after, ticket.on_site_at, now)
    report.breaches_before += was is True
    report.breaches_after += will is True
    report.open_deadlines += will is None
    if (was is True) != (will is True) and len(report.breach_changes) < LISTED:
        report.breach_changes.append(
            {
                "ticket": ticket.number,
                "urgency": ticket.urgency,
                "due_before": due_before.isoformat() if due_before else None,
                "due_after": due_after.isoformat() if due_after else None,
                "on_site_at": ticket.on_site_at.isoformat() if ticket.on_site_at else None,
                "breached_before": was is True,
                "breached_after": will is True,
            }
        )


def _dispatch(
    report: ImpactReport,
    rules: DraftRules,
    ticket: TicketFacts,
    recommendation: Mapping[str, Any],
    inputs: Mapping[str, object],
    memo: _Memo,
) -> None:
    candidates = [c for c in recommendation.get("candidates") or [] if isinstance(c, dict)]
    if not candidates or rules.after_dispatch is None:
        return
    old = rules.before_dispatch.evaluate(inputs) if rules.before_dispatch else {}
    new = rules.after_dispatch.evaluate(inputs)
    if old == new:
        return
    first_before = candidates[0]
    first_after = _rerank(candidates, new.get("dispatch_policy"), ticket.urgency, memo)
    before_id = str(first_before.get("engineer_id"))
    after_id = str(first_after.get("engineer_id")) if first_after else None
    if before_id == after_id:
        return
    report.reassigned_count += 1
    if len(report.reassigned) < LISTED:
        report.reassigned.append(
            {
                "ticket": ticket.number,
                "urgency": ticket.urgency,
                "before": {"engineer_id": before_id, "name": first_before.get("name")},
                "after": {"engineer_id": after_id, "name": first_after.get("name")} if first_after else None,
                "served_by": ticket.engineer_id,
            }
        )


def _policy(values: object, urgency: str, memo: _Memo) -> tuple[Any, dict[str, float]]:
    """The dispatcher's own policy and signed weights for a row of the draft's table (built once per row)."""
    key = repr((urgency, sorted(values.items()) if isinstance(values, dict) else None))
    found = memo.policies.get(key)
    if found is None:
        policy = roster.policy_from(values if isinstance(values, dict) else None, urgency)
        found = memo.policies[key] = (policy, factor_weights(policy))
    return found


def _rerank(candidates: list[dict[str, Any]], values: object, urgency: str, memo: _Memo) -> dict[str, Any] | None:
    """The first of ``candidates`` under the draft's policy: its hard distance rules, then its weights
    applied to each candidate's stored normalised factors (signed as the dispatcher signs them)."""
    policy, weights = _policy(values, urgency, memo)
    best: tuple[float, int] | None = None
    chosen = None
    for rank, candidate in enumerate(candidates):
        beyond = bool(candidate.get("beyond_radius"))
        home_km = float(candidate.get("home_km") or 0.0)
        if beyond and (not policy.allows_beyond_radius(urgency) or home_km > policy.max_beyond_radius_km):
            continue
        score = sum(
            weights.get(str(f.get("factor")), 0.0) * float(f.get("normalised") or 0.0)
            for f in candidate.get("factors") or []
        )
        key = (round(score, 9), -rank)
        if best is None or key > best:
            best, chosen = key, candidate
    return chosen


def _escalation(
    report: ImpactReport,
    ticket: TicketFacts,
    offer: OfferFacts,
    accept_after: str | None,
    now: datetime,
    memo: _Memo,
) -> None:
    old_due = offer.accept_due_at
    new_due = _after(offer.offered_at, accept_after, memo) or old_due
    timed_out = offer.outcome == "timed_out"
    report.escalations_before += timed_out
    if new_due is None:
        return
    change: str | None = None
    if timed_out and old_due is not None and new_due != old_due:
        change = "earlier" if new_due < old_due else "later"
    elif not timed_out:
        answered = offer.answered_at or (now if offer.outcome is None else None)
        if answered is not None and answered > new_due and (offer.answered_at is not None or new_due <= now):
            change = "new"
    if change is None:
        return
    setattr(report, f"escalations_{change}", getattr(report, f"escalations_{change}") + 1)
    if len(report.escalation_changes) < LISTED:
        report.escalation_changes.append(
            {
                "ticket": ticket.number,
                "urgency": ticket.urgency,
                "engineer_id": offer.engineer_id,
                "change": change,
                "due_before": old_due.isoformat() if old_due else None,
                "due_after": new_due.isoformat(),
                "answered_at": offer.answered_at.isoformat() if offer.answered_at else None,
                "minutes": round((new_due - old_due).total_seconds() / 60) if old_due else None,
            }
        )

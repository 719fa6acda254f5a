"""Assign a whole backlog of waiting tickets at once (exact), or one ticket at a time (greedy baseline).

Batch: a min-cost bipartite matching. Each engineer appears once per free slot (slot k costs the
workload step k times more), each ticket also gets a private "stay unassigned" column costing its
penalty, so a full matching always exists and the optimum trades coverage against pair quality exactly.
SciPy's sparse LAPJV (`min_weight_full_bipartite_matching`) solves it; only allowed pairs become edges.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from .backlog_problem import BacklogProblem
from .index import EngineerIndex
from .model import Ticket
from .policy import DispatchPolicy
from .reasons import Reason, ReasonCode
from .scoring import ScoreFactor, pair_factors
from .skills import JobSkillResolver

Mode = Literal["greedy", "batch"]


@dataclass(frozen=True)
class PlannedAssignment:
    ticket_id: str
    engineer_id: str
    score: float  # pair score as this engineer's `slot`-th job of the plan
    slot: int  # 0 = first job added today after booked work (accepted offers come first)
    fixed: bool  # an accepted offer: reported, never moved, not part of the objective
    previous_engineer_id: str | None  # engineer of the pending offer before this plan, if any
    factors: tuple[ScoreFactor, ...]

    @property
    def moved(self) -> bool:
        return self.previous_engineer_id is not None and self.previous_engineer_id != self.engineer_id

    def to_dict(self) -> dict[str, object]:
        return {
            "ticket_id": self.ticket_id,
            "engineer_id": self.engineer_id,
            "score": round(self.score, 6),
            "slot": self.slot,
            "fixed": self.fixed,
            "previous_engineer_id": self.previous_engineer_id,
            "moved": self.moved,
            "factors": [f.to_dict() for f in self.factors],
        }


@dataclass(frozen=True)
class UnassignedTicket:
    ticket_id: str
    urgency: str
    penalty: float
    reason: Reason

    def to_dict(self) -> dict[str, object]:
        return {"ticket_id": self.ticket_id, "urgency": self.urgency, "penalty": self.penalty, **self.reason.to_dict()}


@dataclass(frozen=True)
class BacklogPlan:
    mode: Mode
    assignments: tuple[PlannedAssignment, ...]  # fixed ones first, then in ticket input order
    unassigned: tuple[UnassignedTicket, ...]
    total_score: float  # sum of scores of the assignments this plan made (fixed excluded)
    unassigned_penalty: float
    objective: float  # total_score - unassigned_penalty: what batch maximises
    fixed_score: float

    def to_dict(self) -> dict[str, object]:
        made = [a for a in self.assignments if not a.fixed]
        return {
            "mode": self.mode,
            "assignments": [a.to_dict() for a in self.assignments],
            "unassigned": [u.to_dict() for u in self.unassigned],
            "totals": {
                "tickets": len(self.assignments) + len(self.unassigned),
                "fixed": len(self.assignments) - len(made),
                "assigned": len(made),
                "unassigned": len(self.unassigned),
                "moved": sum(a.moved for a in made),
                "total_score": round(self.total_score, 6),
                "unassigned_penalty": round(self.unassigned_penalty, 6),
                "objective": round(self.objective, 6),
                "fixed_score": round(self.fixed_score, 6),
            },
        }


def solve_batch(problem: BacklogProblem) -> dict[int, int]:
    """Optimal movable ticket position -> engineer row."""
    pairs = problem.pairs
    rows = np.repeat(np.arange(len(problem.tickets)), np.diff(pairs.indptr))
    slots = np.minimum(problem.slots, np.bincount(pairs.engineer, minlength=len(problem.index)))
    if rows.size == 0 or slots.sum() == 0:
        return {}
    slot_start = np.concatenate(([0], np.cumsum(slots)[:-1]))
    per_pair = slots[pairs.engineer]
    edge_pair = np.repeat(np.arange(rows.size), per_pair)
    # k = 0 .. slots-1 within each pair's run of edges
    edge_k = np.arange(edge_pair.size) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    edge_e = pairs.engineer[edge_pair]
    n_slots = int(slots.sum())
    value = pairs.score0[edge_pair] - problem.step[edge_e] * edge_k
    n_tickets = len(problem.tickets)
    # Costs must be strictly positive: the sparse matrix treats zeros as missing edges. Every ticket is
    # matched exactly once (real slot or its own "unassigned" column), so one constant shift per row
    # does not change the optimum.
    shift = 1.0 + max(float(np.abs(value).max()), float(problem.penalty.max(initial=0.0)))
    cost = np.concatenate((shift - value, shift + problem.penalty))
    row_idx = np.concatenate((rows[edge_pair], np.arange(n_tickets)))
    col_idx = np.concatenate((slot_start[edge_e] + edge_k, n_slots + np.arange(n_tickets)))
    graph = csr_matrix((cost, (row_idx, col_idx)), shape=(n_tickets, n_slots + n_tickets))
    matched_rows, matched_cols = min_weight_full_bipartite_matching(graph)
    slot_owner = np.repeat(np.arange(len(slots)), slots)
    return {int(r): int(slot_owner[c]) for r, c in zip(matched_rows, matched_cols, strict=True) if c < n_slots}


def solve_greedy(problem: BacklogProblem) -> dict[int, int]:
    """Tickets by urgency then arrival; each takes its best engineer with a slot left, if that beats
    leaving it open."""
    pairs = problem.pairs
    used = np.zeros(len(problem.index), dtype=np.int64)
    order = sorted(range(len(problem.tickets)), key=lambda i: (problem.tickets[i].urgency.rank, i))
    plan: dict[int, int] = {}
    for i in order:
        span = pairs.span(i)
        engineers = pairs.engineer[span]
        if engineers.size == 0:
            continue
        value = np.where(
            used[engineers] < problem.slots[engineers],
            pairs.score0[span] - problem.step[engineers] * used[engineers],
            -np.inf,
        )
        best = int(np.argmax(value))  # first maximum: lowest roster row on ties, deterministic
        if value[best] > -problem.penalty[i]:
            plan[i] = int(engineers[best])
            used[engineers[best]] += 1
    return plan


def build_plan(problem: BacklogProblem, assignment: Mapping[int, int], mode: Mode) -> BacklogPlan:
    index = problem.index
    assignments = []
    for offer in problem.fixed:
        assignments.append(
            PlannedAssignment(
                offer.ticket.id,
                index.ids[offer.engineer_row],
                offer.score,
                offer.slot,
                True,
                index.ids[offer.engineer_row],
                offer.factors,
            )
        )
    # Slots are handed out in greedy service order so the plan reads like a booking sequence.
    order = sorted(assignment, key=lambda i: (problem.tickets[i].urgency.rank, i))
    used: dict[int, int] = {}
    made: dict[int, PlannedAssignment] = {}
    total = 0.0
    for i in order:
        e = assignment[i]
        k = used.get(e, 0)
        used[e] = k + 1
        made[i] = _planned(problem, i, e, k, int(problem.fixed_load[e]))
        total += made[i].score
    assignments.extend(made[i] for i in sorted(made))
    unassigned = []
    for i, ticket in enumerate(problem.tickets):
        if i in assignment:
            continue
        reason = problem.blocked.get(i)
        if reason is None:
            span = problem.pairs.span(i)
            reason = Reason(ReasonCode.ELIGIBLE_CAPACITY_USED, {"eligible_engineers": span.stop - span.start})
        unassigned.append(UnassignedTicket(ticket.id, ticket.urgency.value, float(problem.penalty[i]), reason))
    penalty = sum(u.penalty for u in unassigned)
    return BacklogPlan(
        mode,
        tuple(assignments),
        tuple(unassigned),
        total,
        penalty,
        total - penalty,
        sum(offer.score for offer in problem.fixed),
    )


def _planned(problem: BacklogProblem, i: int, e: int, k: int, fixed_before: int) -> PlannedAssignment:
    pairs, index = problem.pairs, problem.index
    pos = pairs.position(i, e)
    factors = pair_factors(
        problem.policy,
        travel_km=float(pairs.travel_km[pos]),
        remaining=float(index.capacity[e] - index.booked[e] - fixed_before - k),
        capacity=float(index.capacity[e]),
        ftfr=float(pairs.ftfr[pos]),
        proficiency=float(pairs.proficiency[pos]),
        decline_rate=float(pairs.decline_rate[pos]),
    )
    ticket = problem.tickets[i]
    return PlannedAssignment(
        ticket.id,
        index.ids[e],
        problem.pair_value(i, e, k),
        fixed_before + k,
        False,
        problem.pending.get(ticket.id),
        factors,
    )


class BacklogAssignment:
    """Plans offers for all waiting tickets of a dispatch round."""

    def __init__(self, index: EngineerIndex, resolver: JobSkillResolver, policy: DispatchPolicy | None = None):
        self.index = index
        self.resolver = resolver
        self.policy = policy or DispatchPolicy()

    def problem(
        self,
        tickets: Sequence[Ticket],
        *,
        accepted: Mapping[str, str] | None = None,
        declined: Mapping[str, Iterable[str]] | None = None,
        pending: Mapping[str, str] | None = None,
    ) -> BacklogProblem:
        return BacklogProblem.build(self.index, self.resolver, self.policy, tickets, accepted, declined, pending)

    def plan(
        self,
        tickets: Sequence[Ticket],
        mode: Mode = "batch",
        *,
        accepted: Mapping[str, str] | None = None,
        declined: Mapping[str, Iterable[str]] | None = None,
        pending: Mapping[str, str] | None = None,
    ) -> BacklogPlan:
        problem = self.problem(tickets, accepted=accepted, declined=declined, pending=pending)
        return solve(problem, mode)


def solve(problem: BacklogProblem, mode: Mode) -> BacklogPlan:
    if mode == "batch":
        return build_plan(problem, solve_batch(problem), "batch")
    if mode == "greedy":
        return build_plan(problem, solve_greedy(problem), "greedy")
    raise ValueError(f"mode must be 'greedy' or 'batch', got {mode!r}")

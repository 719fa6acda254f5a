"""The backlog as an assignment problem: every allowed (ticket, engineer) pair with its score.

Greedy and batch plans are solved from the same `BacklogProblem`, so they are judged on one objective:

    objective = sum of pair scores of the assigned tickets - sum of unassigned_penalty[urgency] of the rest

where the k-th job an engineer receives in this plan (k = 0, 1, ...) scores `score0 - k * step`, `step`
being workload weight / daily capacity: exactly what the shortlist would give after k more bookings.
Accepted offers are fixed: they use their engineer's capacity first and are not part of the objective.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .index import EngineerIndex
from .model import Ticket
from .policy import DispatchPolicy
from .reasons import Reason
from .scoring import ScoreFactor, evaluate_pairs, workload_step
from .shortlist import no_eligible_reason, skill_gap_reason
from .skills import JobSkillResolver

_BLOCK = 256  # tickets evaluated together: bounds memory at 2,000 x 800 without losing vectorisation


@dataclass(frozen=True)
class PairTable:
    """Allowed pairs grouped by ticket (CSR layout): ticket i owns entries indptr[i]:indptr[i+1]."""

    indptr: np.ndarray
    engineer: np.ndarray  # engineer row, ascending within a ticket
    score0: np.ndarray  # score if this were the engineer's next job
    travel_km: np.ndarray
    ftfr: np.ndarray
    proficiency: np.ndarray
    decline_rate: np.ndarray

    def span(self, i: int) -> slice:
        return slice(int(self.indptr[i]), int(self.indptr[i + 1]))

    def position(self, i: int, e: int) -> int | None:
        """Where pair (ticket i, engineer row e) is stored, or None when it is not allowed."""
        span = self.span(i)
        pos = int(np.searchsorted(self.engineer[span], e)) + span.start
        return pos if pos < span.stop and self.engineer[pos] == e else None


@dataclass(frozen=True)
class FixedOffer:
    ticket: Ticket
    engineer_row: int
    slot: int  # position among this engineer's accepted offers
    factors: tuple[ScoreFactor, ...]

    @property
    def score(self) -> float:
        return sum(f.contribution for f in self.factors)


class BacklogProblem:
    """Pairs, capacities and penalties of one backlog snapshot. Build with `BacklogProblem.build`."""

    def __init__(
        self,
        index: EngineerIndex,
        policy: DispatchPolicy,
        tickets: list[Ticket],
        pairs: PairTable,
        blocked: dict[int, Reason],
        fixed: list[FixedOffer],
        slots: np.ndarray,
        fixed_load: np.ndarray,
        pending: Mapping[str, str],
    ):
        self.index = index
        self.policy = policy
        self.tickets = tickets  # movable tickets, input (arrival) order
        self.pairs = pairs
        self.blocked = blocked  # ticket position -> why nobody is allowed at all
        self.fixed = fixed
        self.slots = slots  # per engineer: jobs this plan may still add
        self.fixed_load = fixed_load
        self.step = workload_step(index, policy)
        self.penalty = np.array([policy.unassigned_penalty[t.urgency.value] for t in tickets], dtype=float)
        self.pending = dict(pending)

    @classmethod
    def build(
        cls,
        index: EngineerIndex,
        resolver: JobSkillResolver,
        policy: DispatchPolicy,
        tickets: Sequence[Ticket],
        accepted: Mapping[str, str] | None = None,
        declined: Mapping[str, Iterable[str]] | None = None,
        pending: Mapping[str, str] | None = None,
    ) -> BacklogProblem:
        """`accepted`: ticket id -> engineer id of accepted offers (fixed, not counted in booked_today).
        `declined`: ticket id -> engineer ids that declined it (forbidden pairs).
        `pending`: ticket id -> engineer id currently offered, only to report which offers move."""
        accepted = dict(accepted or {})
        declined = declined or {}
        seen: set[str] = set()
        for ticket in tickets:
            if ticket.id in seen:
                raise ValueError(f"duplicate ticket id {ticket.id!r}")
            seen.add(ticket.id)
        for ticket_id, engineer_id in accepted.items():
            if ticket_id not in seen:
                raise ValueError(f"accepted offer for unknown ticket {ticket_id!r}")
            if engineer_id not in index.row:
                raise ValueError(f"ticket {ticket_id!r} accepted by unknown engineer {engineer_id!r}")

        fixed_tickets = [t for t in tickets if t.id in accepted]
        movable = [t for t in tickets if t.id not in accepted]
        fixed_load = np.zeros(len(index))
        fixed = []
        if fixed_tickets:
            fixed_jobs = [resolver.resolve(t) for t in fixed_tickets]
            ev = evaluate_pairs(index, fixed_tickets, fixed_jobs, policy)
            for i, ticket in enumerate(fixed_tickets):
                e = index.row[accepted[ticket.id]]
                k = int(fixed_load[e])
                fixed.append(FixedOffer(ticket, e, k, ev.factors(i, e, policy, later_jobs=k)))
                fixed_load[e] += 1

        jobs = [resolver.resolve(t) for t in movable]
        blocked: dict[int, Reason] = {}
        chunks: dict[str, list[np.ndarray]] = {
            name: [] for name in ("ticket", "engineer", "score0", "travel_km", "ftfr", "proficiency", "decline_rate")
        }
        for start in range(0, len(movable), _BLOCK):
            block = range(start, min(start + _BLOCK, len(movable)))
            for i in block:
                gap = skill_gap_reason(jobs[i], policy)
                if gap is not None:
                    blocked[i] = gap
            excluded = [{index.row[e] for e in declined.get(movable[i].id, ()) if e in index.row} for i in block]
            ev = evaluate_pairs(
                index,
                [movable[i] for i in block],
                [jobs[i] for i in block],
                policy,
                excluded=excluded,
                extra_load=fixed_load,
            )
            allowed = ev.eligible.copy()
            for local, i in enumerate(block):
                if i in blocked:
                    allowed[local] = False
                elif not allowed[local].any():
                    blocked[i] = no_eligible_reason(ev, local)
            t_idx, e_idx = np.nonzero(allowed)  # row-major: grouped by ticket, engineers ascending
            chunks["ticket"].append(t_idx + start)
            chunks["engineer"].append(e_idx)
            chunks["score0"].append(ev.score[t_idx, e_idx])
            chunks["travel_km"].append(ev.travel_km[t_idx, e_idx])
            chunks["ftfr"].append(ev.ftfr[t_idx, e_idx])
            chunks["proficiency"].append(ev.proficiency[t_idx, e_idx])
            chunks["decline_rate"].append(ev.decline_rate[t_idx, e_idx])
        arrays = {name: (np.concatenate(parts) if parts else np.zeros(0)) for name, parts in chunks.items()}
        ticket_of = arrays.pop("ticket").astype(np.int64)
        indptr = np.zeros(len(movable) + 1, dtype=np.int64)
        np.cumsum(np.bincount(ticket_of, minlength=len(movable)), out=indptr[1:])
        arrays["engineer"] = arrays["engineer"].astype(np.int64)
        pairs = PairTable(indptr=indptr, **arrays)
        slots = np.clip(index.capacity - index.booked - fixed_load, 0, None).astype(np.int64)
        return cls(index, policy, movable, pairs, blocked, fixed, slots, fixed_load, pending or {})

    def pair_value(self, i: int, e: int, k: int) -> float:
        """Score of movable ticket i as engineer e's k-th job of this plan."""
        pos = self.pairs.position(i, e)
        if pos is None:
            raise KeyError(f"pair ({self.tickets[i].id}, {self.index.ids[e]}) is not allowed")
        return float(self.pairs.score0[pos] - self.step[e] * k)

    def objective(self, assignment: Mapping[int, int]) -> float:
        """Objective of a plan given as movable ticket position -> engineer row. Jobs of one engineer
        take slots 0, 1, ... in any order: the sum does not depend on which ticket got which slot."""
        total = 0.0
        used: dict[int, int] = {}
        for i in range(len(self.tickets)):
            e = assignment.get(i)
            if e is None:
                total -= float(self.penalty[i])
                continue
            k = used.get(e, 0)
            if k >= self.slots[e]:
                raise ValueError(f"engineer {self.index.ids[e]} over capacity")
            used[e] = k + 1
            total += self.pair_value(i, e, k)
        return total

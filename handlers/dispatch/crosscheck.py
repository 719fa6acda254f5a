"""Independent exact solvers for a `BacklogProblem`, used to verify the production batch solver.

Neither shares code with `backlog.solve_batch`: one is the dense Hungarian method over an explicit
ticket x slot matrix, the other a MILP over pair and slot variables solved by HiGHS. Both are far
slower and meant for tests and the benchmark's optimality gap, not for dispatching.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp
from scipy.sparse import coo_matrix

from .backlog_problem import BacklogProblem

_FORBIDDEN = -1e9


def solve_dense_hungarian(problem: BacklogProblem) -> dict[int, int]:
    n_tickets = len(problem.tickets)
    owners = np.repeat(np.arange(len(problem.slots)), problem.slots)
    positions = np.concatenate([np.arange(s) for s in problem.slots]) if owners.size else np.zeros(0, dtype=int)
    value = np.full((n_tickets, owners.size + n_tickets), _FORBIDDEN)
    for i in range(n_tickets):
        span = problem.pairs.span(i)
        for e, s0 in zip(problem.pairs.engineer[span], problem.pairs.score0[span], strict=True):
            cols = np.flatnonzero(owners == e)
            value[i, cols] = s0 - problem.step[e] * positions[cols]
        value[i, owners.size + i] = -problem.penalty[i]
    rows, cols = linear_sum_assignment(value, maximize=True)
    return {int(i): int(owners[j]) for i, j in zip(rows, cols, strict=True) if j < owners.size}


def solve_milp(problem: BacklogProblem) -> tuple[dict[int, int], float]:
    """Maximise sum(score0 * x) - sum(step * k * y) - sum(penalty * u) subject to
    each ticket: sum of its x + u = 1; each engineer: sum of its x = sum of its y, y_k in {0, 1}."""
    pairs = problem.pairs
    n_pairs, n_tickets = pairs.engineer.size, len(problem.tickets)
    slot_engineer = np.repeat(np.arange(len(problem.slots)), problem.slots)
    slot_k = np.concatenate([np.arange(s) for s in problem.slots]) if slot_engineer.size else np.zeros(0)
    n_slots = slot_engineer.size
    n_vars = n_pairs + n_slots + n_tickets
    gain = np.concatenate((pairs.score0, -problem.step[slot_engineer] * slot_k, -problem.penalty))
    pair_ticket = np.repeat(np.arange(n_tickets), np.diff(pairs.indptr))
    ticket_rows = coo_matrix(
        (
            np.ones(n_pairs + n_tickets),
            (
                np.concatenate((pair_ticket, np.arange(n_tickets))),
                np.concatenate((np.arange(n_pairs), n_pairs + n_slots + np.arange(n_tickets))),
            ),
        ),
        shape=(n_tickets, n_vars),
    )
    n_eng = len(problem.slots)
    engineer_rows = coo_matrix(
        (
            np.concatenate((np.ones(n_pairs), -np.ones(n_slots))),
            (
                np.concatenate((pairs.engineer, slot_engineer)),
                np.concatenate((np.arange(n_pairs), n_pairs + np.arange(n_slots))),
            ),
        ),
        shape=(n_eng, n_vars),
    )
    result = milp(
        -gain,
        integrality=np.ones(n_vars),
        bounds=Bounds(0, 1),
        constraints=[LinearConstraint(ticket_rows.tocsr(), 1, 1), LinearConstraint(engineer_rows.tocsr(), 0, 0)],
    )
    if not result.success:
        raise RuntimeError(f"MILP failed: {result.message}")
    chosen = np.flatnonzero(result.x[:n_pairs] > 0.5)
    return {int(pair_ticket[p]): int(pairs.engineer[p]) for p in chosen}, float(-result.fun)

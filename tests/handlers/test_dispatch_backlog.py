import itertools
import math
import random
from collections import Counter

import pytest
from dispatch_places import at

from handlers.dispatch import (
    BacklogAssignment,
    DeclineHistory,
    DispatchPolicy,
    Engineer,
    EngineerIndex,
    EngineerShortlist,
    FixHistory,
    JobSkillResolver,
    Ticket,
)
from handlers.dispatch.backlog import solve, solve_batch, solve_greedy
from handlers.dispatch.crosscheck import solve_dense_hungarian, solve_milp
from handlers.dispatch.scenario_schema import parse_scenario
from handlers.dispatch.synthetic import generate_scenario

KEYWORDS = {
    "spindle noise": ["spindle"],
    "主轴异响": ["spindle"],
    "coolant leak": ["coolant system"],
    "PLC alarm": ["PLC programming"],
}
DEVICES = {"FANUC CNC lathe": ["FANUC"]}
SKILLS = ["FANUC", "spindle", "coolant system", "PLC programming"]
FAULTS = ["spindle noise", "主轴异响", "coolant leak", "PLC alarm", "PLC alarm and coolant leak"]


@pytest.fixture(scope="module")
def resolver():
    return JobSkillResolver(KEYWORDS, DEVICES)


def random_instance(seed: int):
    rng = random.Random(seed)
    engineers = []
    for i in range(rng.randint(2, 4)):
        skills = {s: rng.randint(1, 5) for s in rng.sample(SKILLS, rng.randint(2, 4))}
        engineers.append(
            Engineer(
                f"E{i}",
                at(rng.uniform(-4, 4), rng.uniform(-4, 4)),
                skills,
                current=at(rng.uniform(-4, 4), rng.uniform(-4, 4)) if rng.random() < 0.3 else None,
                service_radius_km=rng.choice([None, 4.0, 8.0]),
                status=rng.choice(["idle"] * 4 + ["full"]),
                daily_capacity=rng.randint(1, 4),
                booked_today=rng.randint(0, 2),
                fix_history={s: FixHistory(rng.randint(0, 4), 4) for s in skills},
                decline_history={s: DeclineHistory(rng.randint(0, 2), 2) for s in skills},
            )
        )
    tickets = [
        Ticket(
            f"T{j}",
            at(rng.uniform(-5, 5), rng.uniform(-5, 5)),
            rng.choice(["red", "orange", "yellow", "blue"]),
            device_type=rng.choice(["FANUC CNC lathe", None]),
            description=rng.choice(FAULTS),
        )
        for j in range(rng.randint(2, 5))
    ]
    declined = {t.id: [rng.choice(engineers).id] for t in tickets if rng.random() < 0.3}
    return engineers, tickets, declined


def brute_force_optimum(resolver, engineers, tickets, declined, policy):
    """Enumerate every plan, scoring pairs through the single-ticket shortlist (an independent path)."""
    index = EngineerIndex(engineers)
    sl = EngineerShortlist(index, resolver, DispatchPolicy(**{**policy.to_dict(), "shortlist_size": 100}))
    options = []
    for ticket in tickets:
        result = sl.shortlist(ticket, declined.get(ticket.id, ()))
        options.append([None] + [(c.engineer_id, c.score) for c in result.candidates])
    by_id = {e.id: e for e in engineers}
    best = -math.inf
    for combo in itertools.product(*options):
        load = Counter(choice[0] for choice in combo if choice)
        if any(n > by_id[e].daily_capacity - by_id[e].booked_today for e, n in load.items()):
            continue
        value = sum(choice[1] for choice in combo if choice)
        # the k-th extra job of an engineer scores k * workload weight / capacity less
        value -= sum(policy.weight_workload / by_id[e].daily_capacity * n * (n - 1) / 2 for e, n in load.items())
        value -= sum(
            policy.unassigned_penalty[t.urgency] for t, choice in zip(tickets, combo, strict=True) if choice is None
        )
        best = max(best, value)
    return best


@pytest.mark.parametrize("seed", range(40))
def test_batch_equals_brute_force_optimum_on_small_instances(resolver, seed):
    engineers, tickets, declined = random_instance(seed)
    policy = DispatchPolicy()
    backlog = BacklogAssignment(EngineerIndex(engineers), resolver, policy)
    batch = backlog.plan(tickets, "batch", declined=declined)
    greedy = backlog.plan(tickets, "greedy", declined=declined)
    optimum = brute_force_optimum(resolver, engineers, tickets, declined, policy)
    assert batch.objective == pytest.approx(optimum, abs=1e-9)
    assert greedy.objective <= optimum + 1e-9


@pytest.fixture(scope="module")
def synthetic():
    scenario = parse_scenario(generate_scenario(60, 150, slot_use=0.8, seed=11))
    resolver = JobSkillResolver(scenario.keyword_skills, scenario.device_skills)
    rng = random.Random(5)
    declined = {t.id: rng.sample([e.id for e in scenario.engineers], 5) for t in scenario.tickets}
    backlog = BacklogAssignment(EngineerIndex(scenario.engineers), resolver, scenario.policy)
    problem = backlog.problem(scenario.tickets, declined=declined)
    return scenario, problem, declined


def test_independent_exact_solvers_agree(synthetic):
    _, problem, _ = synthetic
    sparse = problem.objective(solve_batch(problem))
    assert problem.objective(solve_dense_hungarian(problem)) == pytest.approx(sparse, abs=1e-9)
    assignment, milp_objective = solve_milp(problem)
    assert milp_objective == pytest.approx(sparse, abs=1e-6)
    assert problem.objective(assignment) == pytest.approx(sparse, abs=1e-6)
    assert problem.objective(solve_greedy(problem)) < sparse  # 150 tickets competing: greedy loses


def test_plan_respects_capacity_and_forbidden_pairs(synthetic):
    scenario, problem, declined = synthetic
    for mode in ("batch", "greedy"):
        plan = solve(problem, mode)
        load = Counter(a.engineer_id for a in plan.assignments)
        for e in scenario.engineers:
            assert load[e.id] <= e.daily_capacity - e.booked_today, (mode, e.id)
            if load[e.id]:
                assert e.status != "full"
        for a in plan.assignments:
            assert a.engineer_id not in declined[a.ticket_id]
        assert len(plan.assignments) + len(plan.unassigned) == len(scenario.tickets)
        # "eligible_capacity_used" is true: every engineer allowed for that ticket is fully planned
        position = {t.id: i for i, t in enumerate(problem.tickets)}
        for u in plan.unassigned:
            if u.reason.code == "eligible_capacity_used":
                rows = problem.pairs.engineer[problem.pairs.span(position[u.ticket_id])]
                assert all(load[problem.index.ids[e]] == problem.slots[e] for e in rows), (mode, u.ticket_id)


def test_greedy_never_beats_batch(resolver):
    for seed in range(5):
        scenario = parse_scenario(generate_scenario(40, 100, slot_use=0.8, seed=100 + seed))
        res = JobSkillResolver(scenario.keyword_skills, scenario.device_skills)
        backlog = BacklogAssignment(EngineerIndex(scenario.engineers), res, scenario.policy)
        problem = backlog.problem(scenario.tickets)
        assert solve(problem, "greedy").objective <= solve(problem, "batch").objective + 1e-9


def test_accepted_offers_never_move_and_use_capacity(resolver):
    # E0 is the only FANUC+PLC engineer and has one slot; T0 (accepted by E0 earlier) keeps it, although
    # moving T0 to E1 would free E0 for T1, which nobody else can do.
    engineers = [
        Engineer("E0", at(0.5), {"FANUC": 4, "spindle": 4, "PLC programming": 4}, daily_capacity=1),
        Engineer("E1", at(1.0), {"FANUC": 3, "spindle": 3}, daily_capacity=3),
    ]
    tickets = [
        Ticket("T0", at(0), device_type="FANUC CNC lathe", description="spindle noise"),
        Ticket("T1", at(0.2), device_type="FANUC CNC lathe", description="PLC alarm"),
    ]
    backlog = BacklogAssignment(EngineerIndex(engineers), resolver)
    free = backlog.plan(tickets, "batch")
    assert {a.ticket_id: a.engineer_id for a in free.assignments} == {"T0": "E1", "T1": "E0"}
    for mode in ("batch", "greedy"):
        plan = backlog.plan(tickets, mode, accepted={"T0": "E0"})
        fixed = [a for a in plan.assignments if a.fixed]
        assert [(a.ticket_id, a.engineer_id, a.moved) for a in fixed] == [("T0", "E0", False)]
        assert [u.ticket_id for u in plan.unassigned] == ["T1"]
        assert plan.unassigned[0].reason.code == "no_eligible_engineer"
        assert plan.unassigned[0].reason.params["counts"] == {"missing_skill": 1, "no_capacity": 1}
        assert plan.fixed_score > 0 and plan.objective == pytest.approx(-1.0)


def test_every_score_is_the_sum_of_its_factors_even_past_capacity(resolver):
    # Three accepted offers for an engineer with one free slot: the third is past capacity, where the
    # workload factor stops at zero; its score must stop with it.
    engineers = [
        Engineer("E0", at(0.5), {"FANUC": 4, "spindle": 4}, daily_capacity=2, booked_today=1),
        Engineer("E1", at(1.0), {"FANUC": 3, "spindle": 3}, daily_capacity=3),
    ]
    tickets = [
        Ticket(f"T{i}", at(0.1 * i), device_type="FANUC CNC lathe", description="spindle noise") for i in range(5)
    ]
    plan = BacklogAssignment(EngineerIndex(engineers), resolver).plan(
        tickets, "batch", accepted={"T0": "E0", "T1": "E0", "T2": "E0"}
    )
    assert [a.slot for a in plan.assignments if a.fixed] == [0, 1, 2]
    assert len([a for a in plan.assignments if not a.fixed]) == 2
    for assignment in plan.assignments:
        assert assignment.score == pytest.approx(sum(f.contribution for f in assignment.factors))
    assert plan.fixed_score == pytest.approx(sum(a.score for a in plan.assignments if a.fixed))


def test_greedy_serves_red_first_and_reports_capacity_taken(resolver):
    engineers = [Engineer("E0", at(1.0), {"FANUC": 3, "spindle": 3}, daily_capacity=1)]
    tickets = [
        Ticket("blue", at(0), "blue", "FANUC CNC lathe", "spindle noise"),
        Ticket("red", at(0.5), "red", "FANUC CNC lathe", "主轴异响"),
    ]
    for mode in ("greedy", "batch"):
        plan = BacklogAssignment(EngineerIndex(engineers), resolver).plan(tickets, mode)
        assert [a.ticket_id for a in plan.assignments] == ["red"]
        assert plan.unassigned[0].reason.to_dict() == {
            "code": "eligible_capacity_used",
            "params": {"eligible_engineers": 1},
        }


def test_plan_scores_are_shortlist_scores(resolver):
    engineers = [
        Engineer("E0", at(1.0), {"FANUC": 3, "spindle": 4}, daily_capacity=4, booked_today=1),
        Engineer("E1", at(2.0), {"FANUC": 5, "spindle": 2}, daily_capacity=6),
    ]
    tickets = [
        Ticket("T0", at(0), "blue", "FANUC CNC lathe", "spindle noise"),
        Ticket("T1", at(0.3), "blue", "FANUC CNC lathe", "spindle noise"),
    ]
    index = EngineerIndex(engineers)
    plan = BacklogAssignment(index, resolver).plan(tickets, "batch")
    shortlist = EngineerShortlist(index, resolver)
    for a in plan.assignments:
        ticket = next(t for t in tickets if t.id == a.ticket_id)
        (candidate,) = [c for c in shortlist.shortlist(ticket).candidates if c.engineer_id == a.engineer_id]
        step = 0.2 / next(e.daily_capacity for e in engineers if e.id == a.engineer_id)
        assert a.score == pytest.approx(candidate.score - step * a.slot)
        assert sum(f.contribution for f in a.factors) == pytest.approx(a.score)


def test_pending_offers_report_moves(resolver):
    engineers = [
        Engineer("near", at(0.5), {"FANUC": 3, "spindle": 3}),
        Engineer("far", at(4.0), {"FANUC": 3, "spindle": 3}),
    ]
    tickets = [Ticket("T0", at(0), device_type="FANUC CNC lathe", description="spindle noise")]
    plan = BacklogAssignment(EngineerIndex(engineers), resolver).plan(tickets, pending={"T0": "far"})
    (a,) = plan.assignments
    assert (a.engineer_id, a.previous_engineer_id, a.moved) == ("near", "far", True)
    assert plan.to_dict()["totals"]["moved"] == 1


def test_no_skill_ticket_is_unassigned_with_reason(resolver):
    engineers = [Engineer("E0", at(1.0), {"FANUC": 3, "spindle": 3})]
    plan = BacklogAssignment(EngineerIndex(engineers), resolver).plan([Ticket("T0", at(0), description="??")])
    assert plan.unassigned[0].reason.code == "no_skill_identified"


def test_bad_backlog_input_is_rejected(resolver):
    backlog = BacklogAssignment(EngineerIndex([Engineer("E0", at(1.0), {"FANUC": 3})]), resolver)
    with pytest.raises(ValueError, match="duplicate ticket"):
        backlog.plan([Ticket("T0", at(0)), Ticket("T0", at(1))])
    with pytest.raises(ValueError, match="unknown engineer"):
        backlog.plan([Ticket("T0", at(0))], accepted={"T0": "E9"})
    with pytest.raises(ValueError, match="mode"):
        backlog.plan([Ticket("T0", at(0))], "optimal")
    with pytest.raises(ValueError, match="duplicate engineer"):
        EngineerIndex([Engineer("E0", at(1.0)), Engineer("E0", at(2.0))])

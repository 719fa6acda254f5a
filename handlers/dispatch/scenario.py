"""Offline evaluation: run a scenario file through greedy or batch dispatch.

Wired by the CLI as `closeloop dispatch --scenario FILE.json [--mode greedy|batch] --json`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..bounded_json import JSONInputError, loads
from .backlog import BacklogAssignment, Mode
from .index import EngineerIndex
from .scenario_schema import Scenario, ScenarioError, parse_scenario
from .skills import JobSkillResolver

__all__ = ["ScenarioError", "load_scenario", "run_scenario"]


def load_scenario(source: str | os.PathLike[str] | Mapping[str, object]) -> Scenario:
    """Read (if given a path) and validate a scenario. Raises ScenarioError naming the bad JSON path.

    Anything that is not a path is taken as an already decoded JSON document."""
    if not isinstance(source, str | os.PathLike):
        return parse_scenario(dict(source) if isinstance(source, Mapping) else source)
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError([("$", f"cannot read {path}: {error.strerror or error}")]) from error
    except UnicodeDecodeError as error:
        raise ScenarioError([("$", f"{path} is not UTF-8 text")]) from error
    try:
        data = loads(text)
    except JSONInputError as error:
        raise ScenarioError([("$", str(error))]) from error
    return parse_scenario(data)


def run_scenario(source: str | os.PathLike[str] | Mapping[str, object], mode: Mode = "batch") -> dict[str, object]:
    """Plan the scenario's tickets and return a JSON-serialisable result.

    Result keys: `mode`, `assignments` (ticket, engineer, score, slot, fixed, previous/moved, factors),
    `unassigned` (ticket, urgency, penalty, reason code + params), `totals` (counts, total_score,
    unassigned_penalty, objective, fixed_score) and `engineers` (planned load per engineer).
    """
    if mode not in ("greedy", "batch"):
        raise ScenarioError([("mode", "must be 'greedy' or 'batch'")])
    scenario = load_scenario(source)
    index = EngineerIndex(scenario.engineers, team_ftfr=scenario.team_ftfr or None)
    resolver = JobSkillResolver(scenario.keyword_skills, scenario.device_skills)
    backlog = BacklogAssignment(index, resolver, scenario.policy)
    plan = backlog.plan(
        scenario.tickets, mode, accepted=scenario.accepted, declined=scenario.declined, pending=scenario.offered
    )
    result = plan.to_dict()
    planned: dict[str, int] = {}
    for assignment in plan.assignments:
        planned[assignment.engineer_id] = planned.get(assignment.engineer_id, 0) + 1
    result["engineers"] = [
        {
            "engineer_id": e.id,
            "daily_capacity": e.daily_capacity,
            "booked_today": e.booked_today,
            "planned": planned.get(e.id, 0),
        }
        for e in scenario.engineers
    ]
    return result

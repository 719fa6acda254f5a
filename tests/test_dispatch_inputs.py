"""Dispatch on inputs nobody here made (issue 15 §4): policies that try to switch off an absolute rule,
documents nested far too deep, and numbers that are not numbers, by every way a scenario comes in (the
CLI on a file, `load_scenario` on a path, `parse_scenario` on a hand-built structure)."""

import copy
import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from handlers.bounded_json import JSONInputError, loads, nesting_depth
from handlers.dispatch import DispatchPolicy, PolicyError, ScenarioError, load_scenario, run_scenario
from handlers.dispatch.synthetic import generate_scenario
from webui.cli.dispatch import dispatch_scenario

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "dispatch-scenario.json"


@pytest.fixture()
def document():
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def problems_of(document) -> dict[str, str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(document)
    return dict(caught.value.problems)


# --- `full` is never allowed -------------------------------------------------------------------------


def test_a_policy_allowing_full_engineers_is_refused(document):
    document["policy"]["allowed_statuses"] = ["idle", "full"]
    problems = problems_of(document)
    assert "full" in problems["policy.allowed_statuses[1]"] and "never" in problems["policy.allowed_statuses[1]"]
    with pytest.raises(PolicyError) as caught:
        DispatchPolicy(allowed_statuses=("full",))
    assert [name for name, _ in caught.value.problems] == ["allowed_statuses[0]"]
    with pytest.raises(PolicyError):
        DispatchPolicy.from_mapping({"allowed_statuses": ["idle", "en_route", "repairing", "full"]})


def test_full_engineers_stay_unassigned_under_every_valid_policy():
    """The other statuses may be switched on and off; a `full` engineer is never planned whatever is
    allowed (the synthetic roster marks engineers without a slot `full`, and some with slots too)."""
    document = generate_scenario(40, 80, slot_use=0.9, seed=11)
    rng = random.Random(5)
    for engineer in document["engineers"]:
        if rng.random() < 0.3:
            engineer["status"] = "full"
            engineer["booked_today"] = 0  # a full status wins over the counters
    full = {e["id"] for e in document["engineers"] if e["status"] == "full"}
    assert full
    for allowed in (["idle"], ["idle", "en_route", "repairing"], ["repairing", "en_route"]):
        document["policy"] = {"allowed_statuses": allowed}
        for mode in ("greedy", "batch"):
            result = run_scenario(copy.deepcopy(document), mode=mode)
            assert result["assignments"]
            assert not {a["engineer_id"] for a in result["assignments"]} & full


# --- nesting depth -----------------------------------------------------------------------------------


def test_depth_is_counted_outside_strings():
    assert nesting_depth('{"a": "[[[[{{{{", "b": [1, [2, {"c": "]]"}]]}') == 4
    assert loads('{"a": "[[[[\\"[["}') == {"a": '[[[["[['}
    with pytest.raises(JSONInputError, match="100000 levels"):
        loads("[" * 100_000 + "]" * 100_000)
    with pytest.raises(JSONInputError, match="Exceeds the limit"):
        loads('{"a": ' + "9" * 5000 + "}")  # beyond Python's integer-string limit, not a decode error


def test_cli_refuses_a_scenario_nested_100000_levels(tmp_path, document):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    inner = tmp_path / "deep-inside.json"
    document["engineers"][0]["skills"] = json.loads("[" * 60 + "]" * 60)
    inner.write_text(json.dumps(document)[:-1] + ', "team_ftfr": ' + "{" * 99_999 + "}" * 99_999 + "}")
    for path in (deep, inner):
        result = CliRunner().invoke(dispatch_scenario, ["--scenario", str(path)])
        assert result.exit_code == 1, result.output
        assert "levels deep" in result.output and "Traceback" not in result.output
        assert not isinstance(result.exception, RecursionError)
    # and as a real process: no traceback on stderr
    done = subprocess.run(
        [sys.executable, "-m", "webui.cli", "dispatch", "--scenario", str(deep)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "nested 100000 levels deep" in done.stderr and "Traceback" not in done.stderr


def test_hand_built_structures_are_bounded_too(document):
    nested: list = []
    for _ in range(100_000):
        nested = [nested]
    document["tickets"][0]["keywords"] = nested
    assert "levels deep" in problems_of(document)["$"]
    loop: dict = {}
    loop["self"] = loop  # a cycle is infinitely deep and must not hang
    document["tickets"][0]["keywords"] = loop
    assert "levels deep" in problems_of(document)["$"]


# --- numbers that are not numbers ----------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("where", "value", "path", "words"),
    [
        (
            ["engineers", 1, "home", "lat"],
            NAN,
            "engineers[1].home.lat",
            "not a number (NaN); must be a number between -90 and 90 (latitude)",
        ),
        (
            ["engineers", 1, "home", "lon"],
            -INF,
            "engineers[1].home.lon",
            "is infinite; must be a number between -180 and 180 (longitude)",
        ),
        (
            ["engineers", 1, "home", "lat"],
            91,
            "engineers[1].home.lat",
            "must be a number between -90 and 90 (latitude) (got 91)",
        ),
        (["engineers", 2, "current"], {"lat": INF, "lon": 1}, "engineers[2].current.lat", "is infinite"),
        (["engineers", 1, "service_radius_km"], NAN, "engineers[1].service_radius_km", "not a number"),
        (["engineers", 1, "service_radius_km"], 1e300, "engineers[1].service_radius_km", "(got "),
        (["engineers", 1, "daily_capacity"], -1, "engineers[1].daily_capacity", "(got -1)"),
        (["engineers", 1, "daily_capacity"], 10**30, "engineers[1].daily_capacity", "(got "),
        (["engineers", 1, "booked_today"], NAN, "engineers[1].booked_today", "not a number"),
        (["engineers", 1, "skills", "spindle"], NAN, "engineers[1].skills.spindle", "not a number"),
        (
            ["engineers", 0, "fix_history", "spindle", "closed"],
            10**12,
            "engineers[0].fix_history.spindle.closed",
            "(got ",
        ),
        (["tickets", 0, "site", "lat"], NAN, "tickets[0].site.lat", "not a number (NaN)"),
        (["tickets", 0, "site", "lon"], 540.0, "tickets[0].site.lon", "(got 540.0)"),
        (["team_ftfr"], {"spindle": NAN}, "team_ftfr.spindle", "not a number"),
        (["policy", "weight_distance"], NAN, "policy.weight_distance", "must be a number >= 0 and <="),
        (["policy", "weight_workload"], 1e308, "policy.weight_workload", "must be a number >= 0 and <="),
        (["policy", "max_beyond_radius_km"], INF, "policy.max_beyond_radius_km", ">= 0 and <="),
        (["policy", "unassigned_penalty"], {"red": NAN}, "policy.unassigned_penalty.red", "must be a number >"),
        (["policy", "ftfr_prior_strength"], 0, "policy.ftfr_prior_strength", "> 0"),
        (["policy", "shortlist_size"], 10**9, "policy.shortlist_size", "between 1 and"),
        (["engineers", 1, "status"], ["idle"], "engineers[1].status", "must be one of"),
        (["tickets", 0, "urgency"], {"red": 1}, "tickets[0].urgency", "must be one of"),
        (["policy", "allowed_statuses"], [["idle"]], "policy.allowed_statuses[0]", "must be one of"),
        (["version"], True, "version", "must be 1"),
    ],
)
def test_bad_numbers_are_named(document, where, value, path, words):
    target = document
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    problems = problems_of(document)
    assert path in problems, problems
    assert words in problems[path]


def test_an_invalid_engineer_is_not_called_unknown(document, tmp_path):
    """E02 has a NaN latitude; tickets that name E02 point at its record instead of saying "unknown"."""
    document["engineers"][1]["home"]["lat"] = NAN
    document["tickets"][0]["accepted_by"] = "E02"
    problems = problems_of(document)
    assert "not a number" in problems["engineers[1].home.lat"]
    referring = [message for path, message in problems.items() if path.startswith("tickets[")]
    assert referring and all("engineer 'E02' is invalid (see the errors at engineers[1])" in m for m in referring)
    assert not any("unknown engineer" in message for message in problems.values())
    # the same through the CLI, from a file written with JSON's NaN literal
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(document))
    assert "NaN" in path.read_text()
    result = CliRunner().invoke(dispatch_scenario, ["--scenario", str(path)])
    assert result.exit_code == 1
    assert "engineers[1].home.lat: is not a number (NaN)" in result.output


def test_non_string_keys_of_a_hand_built_document_are_refused(document):
    document["keyword_skills"][7] = ["spindle"]
    document["engineers"][0]["skills"][(1, 2)] = 3
    problems = problems_of(document)
    assert "keyword_skills" in problems and "engineers[0].skills[(1, 2)]" in problems


# --- fuzzing: whatever the values, a refusal or a valid plan -------------------------------------------

STRANGE = [NAN, INF, -INF, -1, 0, 1e308, -1e308, 10**30, True, None, "", "x", [], {}, [[[]]], {"a": {}}, 0.5, 3]


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*prefix, i))


def test_fuzzed_scenarios_are_refused_cleanly_or_planned_within_the_rules(document):
    rng = random.Random(15)
    paths = [p for p in _paths(document) if p]
    planned = refused = 0
    for _ in range(400):
        mutated = copy.deepcopy(document)
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(paths)
            target = mutated
            try:
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = copy.deepcopy(rng.choice(STRANGE))
            except (KeyError, IndexError, TypeError):
                continue
        try:
            result = run_scenario(mutated, mode=rng.choice(["greedy", "batch"]))
        except ScenarioError as error:
            refused += 1
            assert error.problems and all(isinstance(p, str) and isinstance(m, str) for p, m in error.problems)
            continue
        planned += 1
        statuses = {e["id"]: e.get("status", "idle") for e in mutated["engineers"]}
        for assignment in result["assignments"]:
            assert math.isfinite(assignment["score"])
            assert assignment["fixed"] or statuses[assignment["engineer_id"]] != "full"
        for row in result["engineers"]:
            assert row["planned"] + row["booked_today"] <= max(row["daily_capacity"], row["booked_today"])
        assert math.isfinite(result["totals"]["objective"])
    assert planned >= 5 and refused >= 200  # both branches really ran

import copy
import json
from pathlib import Path

import pytest

from handlers.dispatch import ScenarioError, load_scenario, run_scenario
from handlers.dispatch.synthetic import generate_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "dispatch-scenario.json"


@pytest.fixture()
def document():
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_example_batch_run(document):
    result = run_scenario(EXAMPLE, mode="batch")
    assert json.loads(json.dumps(result, ensure_ascii=False)) == result
    plan = {a["ticket_id"]: a for a in result["assignments"]}
    assert plan["T6"]["engineer_id"] == "E05" and plan["T6"]["fixed"]  # accepted offer stays
    assert plan["T2"]["engineer_id"] == "E01"  # the only FANUC engineer with PLC skills
    assert plan["T1"]["engineer_id"] == "E02"  # so the red spindle job goes to the next best
    assert plan["T3"]["engineer_id"] == "E04"
    assert plan["T5"]["engineer_id"] != "E02"  # E02 declined T5
    assert plan["T7"]["previous_engineer_id"] == "E02" and not plan["T7"]["moved"]
    (unassigned,) = result["unassigned"]
    assert unassigned["ticket_id"] == "T4" and unassigned["code"] == "no_eligible_engineer"
    assert unassigned["params"]["counts"]["missing_skill"] == 6
    totals = result["totals"]
    assert (totals["tickets"], totals["fixed"], totals["assigned"], totals["unassigned"]) == (7, 1, 5, 1)
    assert totals["objective"] == pytest.approx(totals["total_score"] - totals["unassigned_penalty"])
    made = [a for a in result["assignments"] if not a["fixed"]]
    assert totals["total_score"] == pytest.approx(sum(a["score"] for a in made))
    for row in result["engineers"]:
        assert row["booked_today"] + row["planned"] <= row["daily_capacity"]
    for a in result["assignments"]:
        assert {f["factor"] for f in a["factors"]} == {
            "distance",
            "workload",
            "first_time_fix",
            "proficiency",
            "decline_penalty",
        }


def test_example_greedy_is_worse(document):
    greedy = run_scenario(document, mode="greedy")
    batch = run_scenario(document, mode="batch")
    assert {a["ticket_id"]: a["engineer_id"] for a in greedy["assignments"]}["T1"] == "E01"
    assert {u["ticket_id"]: u["code"] for u in greedy["unassigned"]} == {
        "T2": "eligible_capacity_used",
        "T4": "no_eligible_engineer",
    }
    assert greedy["totals"]["objective"] < batch["totals"]["objective"]


def test_synthetic_scenarios_are_valid_and_run():
    document = generate_scenario(30, 60, slot_use=0.8, seed=4)
    result = run_scenario(document, mode="greedy")
    assert result["totals"]["tickets"] == 60
    assert load_scenario(document).engineers[0].id == "E0000"


def mutate(document, path, value):
    """Set (or with value=KeyError delete) the element at a path like ["engineers", 3, "home", "lat"]."""
    target = document
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    "path,value,where,message",
    [
        (["engineers", 3, "home", "lat"], 91, "engineers[3].home.lat", "must be a number between -90 and 90"),
        (["engineers", 0, "home", "lat"], "31.3", "engineers[0].home.lat", "must be a number"),
        (["engineers", 0, "home", "lon"], None, "engineers[0].home.lon", "between -180 and 180"),
        (["engineers", 0, "current"], {"lat": 31.3}, "engineers[0].current.lon", "is required"),
        (["engineers", 1, "skills", "FANUC"], 6, "engineers[1].skills.FANUC", "between 1 and 5"),
        (["engineers", 2, "skills", "Siemens 840D"], True, 'engineers[2].skills["Siemens 840D"]', "between 1 and 5"),
        (["engineers", 0, "skills", "welding"], 3, "engineers[0].skills.welding", "not in taxonomy"),
        (["engineers", 0, "daily_capacity"], -1, "engineers[0].daily_capacity", "integer >= 0"),
        (["engineers", 0, "booked_today"], 1.5, "engineers[0].booked_today", "integer >= 0"),
        (["engineers", 0, "status"], "asleep", "engineers[0].status", "must be one of"),
        (["engineers", 0, "service_radius_km"], 0, "engineers[0].service_radius_km", "> 0"),
        (
            ["engineers", 1, "fix_history", "spindle", "fixed_first_time"],
            11,
            "engineers[1].fix_history.spindle.fixed_first_time",
            "must not exceed closed (10)",
        ),
        (
            ["engineers", 1, "decline_history", "spindle", "offers"],
            -4,
            "engineers[1].decline_history.spindle.offers",
            "integer >= 0",
        ),
        (["engineers", 4, "id"], "E01", "engineers[4].id", "duplicate engineer id"),
        (["engineers", 0, "colour"], "red", "engineers[0].colour", "unknown field"),
        (["engineers", 0, "home"], KeyError, "engineers[0].home", "is required"),
        (["tickets", 0, "urgency"], "purple", "tickets[0].urgency", "must be one of"),
        (["tickets", 0, "device_type"], "laser cutter", "tickets[0].device_type", "unknown device type"),
        (["tickets", 1, "site"], KeyError, "tickets[1].site", "is required"),
        (["tickets", 2, "id"], "T1", "tickets[2].id", "duplicate ticket id"),
        (["tickets", 4, "declined_by", 0], "E99", "tickets[4].declined_by[0]", "unknown engineer id"),
        (["tickets", 5, "accepted_by"], "E42", "tickets[5].accepted_by", "unknown engineer id"),
        (["tickets", 6, "offered_to"], 7, "tickets[6].offered_to", "non-empty string"),
        (["tickets", 0, "keywords"], "spindle", "tickets[0].keywords", "list of strings"),
        (["policy", "weight_distance"], -0.1, "policy.weight_distance", "number >= 0"),
        (["policy", "allowed_statuses"], ["idle", "asleep"], "policy.allowed_statuses[1]", "must be one of"),
        (["policy", "wieght_distance"], 0.3, "policy.wieght_distance", "unknown policy field"),
        (["policy", "unassigned_penalty"], {"purple": 1}, "policy.unassigned_penalty.purple", "urgency"),
        (["keyword_skills", "主轴异响"], "spindle", 'keyword_skills["主轴异响"]', "list of strings"),
        (
            ["device_skills", "hydraulic press", 0],
            "hydraulics",
            'device_skills["hydraulic press"][0]',
            "not in taxonomy",
        ),
        (["engineers"], {}, "engineers", "must be a list"),
        (["enginers"], [], "enginers", "unknown field"),
        (["version"], 2, "version", "must be 1"),
        (["team_ftfr"], {"spindle": 1.5}, "team_ftfr.spindle", "between 0 and 1"),
    ],
)
def test_validation_names_the_json_path(document, path, value, where, message):
    with pytest.raises(ScenarioError) as caught:
        run_scenario(mutate(document, path, value))
    assert caught.value.path == where
    assert str(caught.value).startswith(f"{where}: ")
    assert message in caught.value.detail


def test_all_problems_are_collected(document):
    mutate(document, ["engineers", 0, "home", "lat"], 100)
    mutate(document, ["tickets", 2, "urgency"], "green")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(document)
    assert [p for p, _ in caught.value.problems] == ["engineers[0].home.lat", "tickets[2].urgency"]
    assert "(and 1 more problems)" in str(caught.value)


def test_root_must_be_an_object():
    with pytest.raises(ScenarioError, match=r"^\$: must be an object"):
        load_scenario([])


def test_files(tmp_path, document):
    path = tmp_path / "scenario.json"
    path.write_text('{\n  "engineers": [,]\n}', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"^\$: invalid JSON at line 2 column"):
        run_scenario(path)
    with pytest.raises(ScenarioError, match="cannot read"):
        run_scenario(tmp_path / "missing.json")
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    assert run_scenario(str(path), "greedy")["mode"] == "greedy"
    with pytest.raises(ScenarioError, match="^mode: "):
        run_scenario(path, mode="optimal")


def test_example_file_is_untouched_by_runs(document):
    before = copy.deepcopy(document)
    run_scenario(document)
    assert document == before

import json

import pytest
from dispatch_places import BASE, at

from handlers.dispatch import (
    DeclineHistory,
    DispatchPolicy,
    Engineer,
    EngineerIndex,
    EngineerShortlist,
    FixHistory,
    GeoPoint,
    JobSkillResolver,
    PolicyError,
    Ticket,
    beta_smoothed,
    record_offer,
)

KEYWORDS = {"主轴异响": ["spindle"], "spindle noise": ["spindle"], "液压": ["hydraulic valve block"]}
DEVICES = {"FANUC CNC lathe": ["FANUC"], "laser cutter": ["laser source"]}
SITE = GeoPoint(*BASE)


def north(km: float) -> GeoPoint:
    """A point `km` due north of the site: the haversine distance is exactly `km`."""
    return at(km)


def engineer(engineer_id: str, km: float = 1.0, **fields) -> Engineer:
    fields.setdefault("skills", {"FANUC": 3, "spindle": 3})
    return Engineer(engineer_id, north(km), name=fields.pop("name", engineer_id), **fields)


def spindle_ticket(urgency: str = "blue", site: GeoPoint = SITE) -> Ticket:
    return Ticket("T1", site, urgency, device_type="FANUC CNC lathe", description="客户反映主轴异响")


@pytest.fixture(scope="module")
def resolver():
    return JobSkillResolver(KEYWORDS, DEVICES)


def shortlist(resolver, engineers, ticket=None, policy=None, excluded=()):
    sl = EngineerShortlist(EngineerIndex(engineers), resolver, policy or DispatchPolicy())
    return sl.shortlist(ticket or spindle_ticket(), excluded_engineer_ids=excluded)


def test_every_exclusion_reason_with_its_parameters(resolver):
    engineers = [
        engineer("ok", 1.0, skills={"FANUC": 4, "spindle": 4}),
        engineer("far", 8.0),
        engineer("busy", 1.0, daily_capacity=4, booked_today=4),
        engineer("full", 1.0, status="full"),
        engineer("no_fanuc", 1.0, skills={"spindle": 5}),
        engineer("no_spindle", 1.0, skills={"FANUC": 5, "hydraulic valve block": 3}),
        engineer("weak", 1.0, skills={"FANUC": 2, "spindle": 4}),
        engineer("declined", 1.0, skills={"FANUC": 4, "spindle": 4}),
    ]
    result = shortlist(
        resolver, engineers, policy=DispatchPolicy(min_skill_level=3), excluded=["declined", "unknown id is ignored"]
    )
    assert [c.engineer_id for c in result.candidates] == ["ok"]
    explanation = result.explanation()
    reasons = {entry["engineer_id"]: entry["reasons"] for entry in explanation["excluded"]}
    assert reasons["far"] == [{"code": "outside_radius", "params": {"distance_km": 8.0, "radius_km": 5.0}}]
    assert reasons["busy"] == [
        {"code": "no_capacity", "params": {"daily_capacity": 4, "booked_today": 4, "planned": 0}}
    ]
    assert reasons["full"] == [
        {"code": "status", "params": {"status": "full", "allowed": ["idle", "en_route", "repairing"]}}
    ]
    assert reasons["no_fanuc"] == [{"code": "missing_skill", "params": {"skills": ["FANUC"], "rule": "all_of"}}]
    assert reasons["no_spindle"] == [{"code": "missing_skill", "params": {"skills": ["spindle"], "rule": "any_of"}}]
    assert reasons["weak"] == [{"code": "skill_level_too_low", "params": {"skills": {"FANUC": 2}, "min_level": 3}}]
    assert reasons["declined"] == [{"code": "declined_this_ticket", "params": {}}]
    assert explanation["exclusion_counts"] == {
        "declined_this_ticket": 1,
        "status": 1,
        "missing_skill": 2,
        "skill_level_too_low": 1,
        "no_capacity": 1,
        "outside_radius": 1,
    }
    assert explanation["considered"] == 8 and explanation["eligible"] == 1
    assert result.exclusion_reasons("far")[0].code == "outside_radius"
    assert result.exclusion_reasons("ok") == []


def test_score_factors_follow_the_documented_formula(resolver):
    e = engineer(
        "zw",
        2.5,
        skills={"FANUC": 4, "spindle": 3},
        daily_capacity=6,
        booked_today=3,
        fix_history={"spindle": FixHistory(8, 10)},
        decline_history={"spindle": DeclineHistory(1, 4)},
    )
    result = shortlist(resolver, [e])
    (candidate,) = result.candidates
    factors = {f.name: f for f in candidate.factors}
    team_spindle = (8 + 5 * 0.7) / (10 + 5)  # pooled team rate, smoothed towards the default 0.7
    ftfr = ((0 + 5 * 0.7) / 5 + (8 + 5 * team_spindle) / (10 + 5)) / 2  # mean over FANUC, spindle
    decline = ((1 + 0) / (4 + 5) + 0 / 5) / 2
    expected = {
        "distance": (2.5, 1 / (1 + 2.5 / 5), 0.35),
        "workload": (3, 3 / 6, 0.2),
        "first_time_fix": (ftfr, ftfr, 0.35),
        "proficiency": (3.5, 3.5 / 5, 0.1),
        "decline_penalty": (decline, decline, -0.3),
    }
    for name, (raw, normalised, weight) in expected.items():
        assert factors[name].raw == pytest.approx(raw, abs=1e-9), name
        assert factors[name].normalised == pytest.approx(normalised, abs=1e-9), name
        assert factors[name].weight == weight
        assert factors[name].contribution == pytest.approx(weight * normalised, abs=1e-12)
    assert candidate.score == pytest.approx(sum(f.contribution for f in candidate.factors), abs=1e-12)
    by_hand = 0.35 * 2 / 3 + 0.2 * 0.5 + 0.35 * ftfr + 0.1 * 0.7 - 0.3 * decline
    assert candidate.score == pytest.approx(by_hand)
    spindle = next(s for s in candidate.skills if s.skill == "spindle")
    assert (spindle.fixed_first_time, spindle.closed, spindle.declines, spindle.offers) == (8, 10, 1, 4)
    assert spindle.prior_mean == pytest.approx(team_spindle)


def test_top_three_by_score_with_the_rest_listed(resolver):
    engineers = [engineer(f"E{i}", km) for i, km in enumerate([3.0, 0.5, 4.0, 1.0, 2.0])]
    result = shortlist(resolver, engineers)
    assert [c.engineer_id for c in result.candidates] == ["E1", "E3", "E4"]
    assert [c.rank for c in result.candidates] == [1, 2, 3]
    assert [engineer_id for engineer_id, _ in result.others] == ["E0", "E2"]
    assert result.eligible == 5
    assert len(shortlist(resolver, engineers, policy=DispatchPolicy(shortlist_size=1)).candidates) == 1


def test_ties_are_broken_by_roster_order(resolver):
    result = shortlist(resolver, [engineer("B", 1.0), engineer("A", 1.0)])
    assert [c.engineer_id for c in result.candidates] == ["B", "A"]


def test_first_time_fix_prior_makes_new_engineers_neither_zero_nor_one(resolver):
    veterans = [
        engineer(f"V{i}", 3.0, fix_history={"spindle": FixHistory(9, 10), "FANUC": FixHistory(9, 10)}) for i in range(4)
    ]
    newcomer = engineer("new", 1.0)
    unlucky = engineer("unlucky", 1.0, fix_history={"spindle": FixHistory(0, 2), "FANUC": FixHistory(0, 2)})
    lucky = engineer("lucky", 1.0, fix_history={"spindle": FixHistory(2, 2), "FANUC": FixHistory(2, 2)})
    index = EngineerIndex([*veterans, newcomer, unlucky, lucky])
    policy = DispatchPolicy(shortlist_size=7)
    team = (36 + 2 + 5 * 0.7) / (44 + 5)  # pooled over all engineers, smoothed towards the default mean
    result = EngineerShortlist(index, resolver, policy).shortlist(spindle_ticket())
    scores = {c.engineer_id: c for c in result.candidates}
    ftfr = {c.engineer_id: next(f.raw for f in c.factors if f.name == "first_time_fix") for c in result.candidates}
    assert ftfr["new"] == pytest.approx(team)
    assert ftfr["unlucky"] == pytest.approx(5 * team / 7)
    assert ftfr["lucky"] == pytest.approx((2 + 5 * team) / 7)
    assert 0 < ftfr["unlucky"] < ftfr["new"] < ftfr["lucky"] < 1
    assert scores["lucky"].rank < scores["new"].rank < scores["unlucky"].rank
    # a weaker prior lets the same two tickets move the estimate further
    weak = EngineerShortlist(index, resolver, DispatchPolicy(ftfr_prior_strength=1.0, shortlist_size=7))
    weak_ftfr = {
        c.engineer_id: next(f.raw for f in c.factors if f.name == "first_time_fix")
        for c in weak.shortlist(spindle_ticket()).candidates
    }
    assert weak_ftfr["unlucky"] < ftfr["unlucky"]


def test_team_prior_can_be_given(resolver):
    index = EngineerIndex([engineer("new", 1.0)], team_ftfr={"spindle": 0.9, "FANUC": 0.5})
    (candidate,) = EngineerShortlist(index, resolver).shortlist(spindle_ticket()).candidates
    assert next(f.raw for f in candidate.factors if f.name == "first_time_fix") == pytest.approx(0.7)


def test_beta_smoothing():
    assert beta_smoothed(0, 0, 0.8, 5) == pytest.approx(0.8)
    assert beta_smoothed(3, 3, 0.5, 5) == pytest.approx(5.5 / 8)
    assert beta_smoothed(0, 0, 0.3, 0) == pytest.approx(0.3)  # no prior weight and no data: the prior mean


def test_a_decline_lowers_future_scores_for_the_same_kind_of_job(resolver):
    a, b = engineer("A", 1.0), engineer("B", 1.0)
    before = shortlist(resolver, [a, b])
    assert [c.engineer_id for c in before.candidates] == ["A", "B"]  # tie, roster order
    # A declines a spindle job on a FANUC lathe; the process layer records it as per-skill statistics
    a_after = engineer("A", 1.0, decline_history=record_offer(a.decline_history, ["FANUC", "spindle"], True))
    after = shortlist(resolver, [a_after, b])
    assert [c.engineer_id for c in after.candidates] == ["B", "A"]
    score = {c.engineer_id: c.score for c in after.candidates}
    assert score["B"] - score["A"] == pytest.approx(0.3 * (1 / 6))  # one decline in one offer, prior 5
    # a decline for another kind of job (hydraulics) does not touch spindle jobs
    other = engineer("A", 1.0, decline_history=record_offer({}, ["hydraulic valve block"], True))
    unaffected = shortlist(resolver, [other, b])
    assert unaffected.candidates[0].score == pytest.approx(before.candidates[0].score)


def test_declining_excludes_the_engineer_for_this_ticket(resolver):
    result = shortlist(resolver, [engineer("A", 1.0), engineer("B", 2.0)], excluded=["A"])
    assert [c.engineer_id for c in result.candidates] == ["B"]


def test_red_ticket_goes_beyond_radius_blue_does_not(resolver):
    engineers = [engineer("far", 12.0)]
    red = shortlist(resolver, engineers, spindle_ticket("red"))
    assert [c.engineer_id for c in red.candidates] == ["far"]
    assert red.candidates[0].beyond_radius and red.candidates[0].home_km == pytest.approx(12.0)
    orange = shortlist(resolver, engineers, spindle_ticket("orange"))
    assert orange.candidates
    blue = shortlist(resolver, engineers, spindle_ticket("blue"))
    assert blue.candidates == ()
    assert blue.reason.params["counts"] == {"outside_radius": 1}
    capped = shortlist(resolver, engineers, spindle_ticket("red"), DispatchPolicy(max_beyond_radius_km=10))
    assert capped.exclusion_reasons("far")[0].to_dict() == {
        "code": "beyond_max_distance",
        "params": {"distance_km": 12.0, "radius_km": 5.0, "max_km": 10},
    }
    never = shortlist(resolver, engineers, spindle_ticket("red"), DispatchPolicy(beyond_radius_urgencies=()))
    assert never.candidates == ()


def test_engineer_radius_overrides_policy_default(resolver):
    assert shortlist(resolver, [engineer("wide", 8.0, service_radius_km=10)]).candidates
    wider_default = DispatchPolicy(default_service_radius_km=9)
    assert shortlist(resolver, [engineer("wide", 8.0)], policy=wider_default).candidates
    assert not shortlist(resolver, [engineer("wide", 8.0)]).candidates


def test_radius_from_home_travel_from_current_position(resolver):
    e = engineer("moving", 4.0, current=north(1.0))
    (candidate,) = shortlist(resolver, [e]).candidates
    assert candidate.home_km == pytest.approx(4.0) and candidate.travel_km == pytest.approx(1.0)
    assert next(f for f in candidate.factors if f.name == "distance").raw == pytest.approx(1.0)
    away = engineer("away", 9.0, current=north(0.5))  # near the site right now, but outside territory
    assert shortlist(resolver, [away]).candidates == ()


def test_nobody_eligible_says_why_with_counts(resolver):
    engineers = [
        engineer("far", 9.0),
        engineer("full", 1.0, status="full"),
        engineer("no_skill", 1.0, skills={"hydraulic valve block": 5}),
    ]
    result = shortlist(resolver, engineers)
    assert result.candidates == ()
    assert result.reason.code == "no_eligible_engineer"
    assert result.reason.params == {"considered": 3, "counts": {"status": 1, "missing_skill": 1, "outside_radius": 1}}
    explanation = result.explanation()
    assert explanation["status"] == "no_eligible_engineer"
    assert len(explanation["excluded"]) == 3


def test_ticket_without_identified_skill_goes_to_triage(resolver):
    ticket = Ticket("T9", SITE, description="machine makes a strange sound")
    result = shortlist(resolver, [engineer("A", 1.0)], ticket)
    assert result.candidates == () and result.reason.code == "no_skill_identified"
    assert result.reason.params == {"device_type": None, "device_type_known": False}
    relaxed = DispatchPolicy(require_device_skills=False, require_fault_skill=False)
    assert shortlist(resolver, [engineer("A", 1.0)], ticket, relaxed).candidates


def test_skill_nobody_has_is_missing_for_everyone(resolver):
    ticket = Ticket("T2", SITE, device_type="laser cutter", description="spindle noise")
    result = shortlist(resolver, [engineer("A", 1.0, skills={"spindle": 5})], ticket)
    assert result.reason.params["counts"] == {"missing_skill": 1}
    assert result.exclusion_reasons("A")[0].params == {"skills": ["laser source"], "rule": "all_of"}


def test_must_have_skills_from_policy(resolver):
    policy = DispatchPolicy(must_have_skills=("safety certificate",))
    certified = engineer("certified", 2.0, skills={"FANUC": 3, "spindle": 3, "safety certificate": 1})
    engineers = [engineer("plain", 1.0), certified]
    assert [c.engineer_id for c in shortlist(resolver, engineers, policy=policy).candidates] == ["certified"]


def test_explanation_is_json_and_names_the_winner(resolver):
    engineers = [engineer("zw", 1.0, name="张伟", group="SIP-1"), engineer("far", 20.0)]
    explanation = shortlist(resolver, engineers).explanation()
    decoded = json.loads(json.dumps(explanation, ensure_ascii=False))
    (winner,) = decoded["candidates"]
    assert winner["name"] == "张伟" and winner["group"] == "SIP-1"
    assert [f["factor"] for f in winner["factors"]] == [
        "distance",
        "workload",
        "first_time_fix",
        "proficiency",
        "decline_penalty",
    ]
    assert decoded["job"]["keywords"] == [{"keyword": "主轴异响", "skills": ["spindle"]}]
    assert decoded["job"]["device_skills"] == ["FANUC"] and decoded["policy"]["weight_distance"] == 0.35


def test_policy_rejects_bad_values_field_by_field():
    with pytest.raises(PolicyError) as caught:
        DispatchPolicy(weight_distance=-1, min_skill_level=7, allowed_statuses=("idle", "asleep"))
    assert [name for name, _ in caught.value.problems] == ["weight_distance", "min_skill_level", "allowed_statuses[1]"]
    with pytest.raises(PolicyError, match="wieght_distance"):
        DispatchPolicy.from_mapping({"wieght_distance": 0.5})
    with pytest.raises(PolicyError, match="must be a list"):
        DispatchPolicy(allowed_statuses="idle")
    assert DispatchPolicy.from_mapping({"unassigned_penalty": {"red": 5}}).unassigned_penalty["blue"] == 1.0
    with pytest.raises(PolicyError, match=r"unassigned_penalty.blue: must be a number > weight_decline"):
        DispatchPolicy(unassigned_penalty={"blue": 0.2})

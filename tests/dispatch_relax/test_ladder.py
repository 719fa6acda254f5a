"""The relaxation ladder (handlers.dispatch.relax): one rule at a time, in order, and said out loud."""

from __future__ import annotations

from dispatch_places import BASE, at

from handlers.dispatch import (
    DispatchPolicy,
    Engineer,
    EngineerIndex,
    EngineerShortlist,
    GeoPoint,
    JobSkillResolver,
    RelaxedShortlist,
    Ticket,
)

RESOLVER = JobSkillResolver({"主轴异响": ["spindle"]}, {"FANUC CNC lathe": ["FANUC"]})
SITE = GeoPoint(*BASE)


def engineer(engineer_id: str, km: float, group: str = "north", **fields) -> Engineer:
    fields.setdefault("skills", {"FANUC": 3, "spindle": 3})
    fields.setdefault("service_radius_km", 5.0)
    return Engineer(engineer_id, at(km), name=engineer_id, group=group, **fields)


def relaxed(engineers: list[Engineer], urgency: str = "blue", declined=(), text: str = "主轴异响"):
    shortlister = EngineerShortlist(EngineerIndex(engineers), RESOLVER, DispatchPolicy())
    ticket = Ticket("T1", SITE, urgency, device_type="FANUC CNC lathe", description=text)
    return RelaxedShortlist(shortlister).shortlist(ticket, excluded_engineer_ids=declined)


def ids(result) -> list[str]:  # noqa: ANN001
    return [c.engineer_id for c in result.candidates]


def test_strict_candidates_are_returned_unchanged_with_no_relaxation() -> None:
    engineers = [engineer("near", 1.0), engineer("far", 12.0)]
    result = relaxed(engineers)
    strict = EngineerShortlist(EngineerIndex(engineers), RESOLVER, DispatchPolicy()).shortlist(
        Ticket("T1", SITE, "blue", device_type="FANUC CNC lathe", description="主轴异响")
    )
    assert result.relaxation is None and ids(result) == ["near"] == [c.engineer_id for c in strict.candidates]
    assert result.explanation()["relaxation"] is None
    assert [c.score for c in result.candidates] == [c.score for c in strict.candidates]


def test_step_one_widens_the_radius_by_urgency_and_keeps_full_skills() -> None:
    engineers = [
        engineer("twelve_km", 12.0),
        engineer("eighteen_km", 18.0),
        engineer("partial_near", 1.0, skills={"FANUC": 4}),  # no spindle: not in step 1
    ]
    blue = relaxed(engineers, "blue")  # blue: 15 km
    assert ids(blue) == ["twelve_km"] and blue.relaxation.step == "wider_radius"
    assert blue.relaxation.radius_km == 15.0
    assert blue.explanation()["relaxation"]["tried"] == [{"step": "wider_radius", "found": 1}]
    yellow = relaxed(engineers, "yellow")  # yellow: 20 km
    assert ids(yellow) == ["twelve_km", "eighteen_km"] and yellow.relaxation.radius_km == 20.0
    assert all(c.beyond_radius for c in yellow.candidates)


def test_step_two_takes_partial_skill_matches_ranked_by_coverage_before_score() -> None:
    engineers = [
        engineer("spindle_only_near", 0.5, skills={"spindle": 5}),
        engineer("fanuc_and_spindle_far", 40.0),  # beyond every widened radius
        engineer("fanuc_only", 3.0, skills={"FANUC": 3, "hydraulic valve block": 2}),
        engineer("both_via_other", 4.0, skills={"FANUC": 1, "spindle": 1, "PLC": 4}),
        engineer("nothing", 0.2, skills={"PLC": 5}),
    ]
    # both_via_other holds both skills but at level 1 … still a full match: strict finds them. Decline it.
    result = relaxed(engineers, "blue", declined=["both_via_other"])
    assert result.relaxation.step == "partial_skills"
    assert ids(result) == ["spindle_only_near", "fanuc_only"]  # equal coverage 1/2: by score (nearer first)
    assert result.relaxation.coverage == {"spindle_only_near": 0.5, "fanuc_only": 0.5}
    assert "nothing" not in ids(result)  # holds none of the job's skills
    tried = [t["step"] for t in result.relaxation.tried]
    assert tried == ["wider_radius", "partial_skills"]
    stored = result.explanation()
    assert stored["relaxation"]["step"] == "partial_skills" and stored["candidates"][0]["rank"] == 1


def test_coverage_outranks_score() -> None:
    engineers = [
        engineer("one_of_two_near", 0.5, skills={"FANUC": 5, "PLC": 5}),
        engineer("two_of_two_far_but_weak", 14.0, skills={"FANUC": 1, "spindle": 1}, status="repairing"),
    ]
    # The far one is a full match, but 14 km > 5 km: blue step 1 (15 km) finds them first.
    assert ids(relaxed(engineers, "blue")) == ["two_of_two_far_but_weak"]
    # Told they declined, step 2 ranks by coverage; the near one covers half.
    result = relaxed(engineers, "blue", declined=["two_of_two_far_but_weak"])
    assert ids(result) == ["one_of_two_near"] and result.relaxation.coverage == {"one_of_two_near": 0.5}


def test_step_three_goes_to_another_group_and_says_who_was_kept_out_for_their_group() -> None:
    engineers = [
        engineer("north_plc", 1.0, "north", skills={"PLC": 5}),  # serves the site, holds none of the skills
        engineer("east_fanuc", 9.0, "east", skills={"FANUC": 4}),
    ]
    result = relaxed(engineers, "blue")
    assert result.relaxation.step == "other_group" and ids(result) == ["east_fanuc"]
    assert [t["step"] for t in result.relaxation.tried] == ["wider_radius", "partial_skills", "other_group"]
    assert result.relaxation.groups == ()


def test_the_group_filter_is_shown_as_such_in_the_steps_that_apply_it() -> None:
    engineers = [
        engineer("north_spindle", 1.0, "north", skills={"spindle": 3}),
        engineer("east_full_match", 9.0, "east"),  # outside 5 km, inside 15: but not a group serving the site
    ]
    result = relaxed(engineers, "blue")
    # step 1 only looks at the site's group (north): nobody holds both skills there; step 2 finds north_spindle
    assert result.relaxation.step == "partial_skills" and ids(result) == ["north_spindle"]
    assert result.relaxation.groups == ("north",)
    reasons = {e["engineer_id"]: e["reasons"] for e in result.explanation()["excluded"]}
    assert reasons["east_full_match"] == [{"code": "other_group", "params": {"groups": ["north"]}}]


def test_what_is_never_relaxed() -> None:
    engineers = [
        engineer("full", 1.0, status="full"),
        engineer("booked", 1.0, daily_capacity=2, booked_today=2),
        engineer("declined", 1.0),
        engineer("too_far", 60.0),  # beyond the outer limit (50 km) even for red
    ]
    result = relaxed(engineers, "red", declined=["declined"])
    assert ids(result) == [] and result.relaxation.step == "none_found"
    assert [t["found"] for t in result.relaxation.tried] == [0, 0, 0]
    assert result.result.reason.code == "no_eligible_engineer"


def test_a_ticket_naming_no_skill_is_left_to_a_person() -> None:
    result = relaxed([engineer("anyone", 1.0)], "blue", text="坏了")
    shortlister = EngineerShortlist(EngineerIndex([engineer("anyone", 1.0)]), RESOLVER, DispatchPolicy())
    no_device = Ticket("T2", SITE, "blue", description="坏了")
    assert result.relaxation is None  # the device still names FANUC: strict finds them
    unknown = RelaxedShortlist(shortlister).shortlist(no_device)
    assert ids(unknown) == [] and unknown.relaxation is None
    assert unknown.result.reason.code == "no_skill_identified"

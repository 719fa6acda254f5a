import pytest

from handlers.dispatch import (
    ClosedJob,
    DeclineHistory,
    DeclineReason,
    Engineer,
    FixHistory,
    GeoPoint,
    OfferOutcome,
    decline_history,
    fix_history,
    record_offer,
)


def test_fix_history_counts_each_skill_of_each_job_once():
    jobs = [
        ClosedJob(("FANUC", "spindle"), True),
        ClosedJob(("spindle", "spindle"), False),
        ClosedJob(("coolant system",), True),
    ]
    assert fix_history(jobs) == {
        "FANUC": FixHistory(1, 1),
        "spindle": FixHistory(1, 2),
        "coolant system": FixHistory(1, 1),
    }


def test_decline_history_and_counted_reasons():
    outcomes = [
        OfferOutcome(("spindle",), False),
        OfferOutcome(("spindle",), True, "too_far"),
        OfferOutcome(("spindle", "FANUC"), True, DeclineReason.SKILL_MISMATCH),
    ]
    assert decline_history(outcomes) == {"spindle": DeclineHistory(2, 3), "FANUC": DeclineHistory(1, 1)}
    # a process owner may decide distance declines are already priced in by the distance factor
    counted = {DeclineReason.SKILL_MISMATCH, DeclineReason.OTHER}
    without_far = decline_history(outcomes, counted_reasons=counted)
    assert without_far == {"spindle": DeclineHistory(1, 2), "FANUC": DeclineHistory(1, 1)}


def test_declined_offer_needs_a_known_reason():
    with pytest.raises(ValueError, match="reason"):
        OfferOutcome(("spindle",), True)
    with pytest.raises(ValueError):
        OfferOutcome(("spindle",), True, "lunch")


def test_record_offer_returns_new_statistics():
    before = {"spindle": DeclineHistory(1, 3)}
    after = record_offer(before, ["spindle", "FANUC"], declined=True)
    assert after == {"spindle": DeclineHistory(2, 4), "FANUC": DeclineHistory(1, 1)}
    assert before == {"spindle": DeclineHistory(1, 3)}


@pytest.mark.parametrize("make", [lambda: FixHistory(3, 2), lambda: FixHistory(-1, 2), lambda: DeclineHistory(2, 1)])
def test_counts_must_be_consistent(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize(
    "fields",
    [
        {"skills": {"FANUC": 0}},
        {"skills": {"FANUC": 2.5}},
        {"daily_capacity": -1},
        {"service_radius_km": 0},
        {"status": "sleeping"},
    ],
)
def test_engineer_rejects_bad_values(fields):
    with pytest.raises(ValueError):
        Engineer("E1", GeoPoint(31.3, 120.6), **fields)


def test_engineer_helpers():
    home, here = GeoPoint(31.3, 120.6), GeoPoint(31.31, 120.61)
    e = Engineer("E1", home, current=here, daily_capacity=5, booked_today=7)
    assert e.travel_origin == here and e.remaining_capacity == 0
    assert Engineer("E2", home).travel_origin == home

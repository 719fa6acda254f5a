"""The dashboards' statistics on inputs small enough to compute by hand (handlers/kpi_stats.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from math import comb

import pytest

from handlers import kpi_stats as stats


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed term by term: an independent check of scipy's answer."""
    return sum(comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def test_quantiles_interpolate_between_order_statistics() -> None:
    assert stats.quantile([4, 1, 3, 2], 0.5) == 2.5
    assert stats.quantile([1, 2, 3, 4], 0.9) == pytest.approx(3.7)
    assert stats.quantile([7], 0.9) == 7
    assert stats.quantile([], 0.5) is None


def test_histogram_buckets_are_half_open_and_the_last_is_unbounded() -> None:
    h = stats.histogram([5, 10, 29, 30, 61, 200], [10, 30, 60])
    assert h.counts == (1, 2, 1, 2)
    assert h.total == 6
    assert h.median == 29.5
    with pytest.raises(ValueError, match="strictly increasing"):
        stats.histogram([1], [10, 10])


def test_attainment_by_hour_counts_met_over_all() -> None:
    by_hour = stats.attainment_by([(9, True), (9, False), (10, True)], 24)
    assert (by_hour[9].num, by_hour[9].den, by_hour[9].pct) == (1, 2, 50.0)
    assert (by_hour[10].num, by_hour[10].den, by_hour[10].pct) == (1, 1, 100.0)
    assert by_hour[0].pct is None  # 0/0 is no figure, not 0 %


def test_arrivals_grid_rows_are_weekdays_monday_first() -> None:
    grid = stats.arrivals_grid([datetime(2026, 11, 23, 9, 30), datetime(2026, 11, 29, 23, 59)])
    assert grid[0][9] == 1  # 2026-11-23 is a Monday
    assert grid[6][23] == 1
    assert sum(map(sum, grid)) == 2


def grid_of(cells: dict[tuple[int, int], int]) -> list[list[int]]:
    grid = [[0] * 24 for _ in range(7)]
    for (day, hour), count in cells.items():
        grid[day][hour] = count
    return grid


def test_staffing_takes_the_busiest_hours_until_the_share_is_reached() -> None:
    grid = grid_of({(0, 9): 5, (0, 10): 3, (1, 14): 2})
    half = stats.staffing(grid, 0.5)
    assert half.cells == {(0, 9)} and (half.covered, half.total, half.covered_pct) == (5, 10, 50.0)
    assert stats.staffing(grid, 0.8).cells == {(0, 9), (0, 10)}
    most = stats.staffing(grid, 0.81)
    assert most.cells == {(0, 9), (0, 10), (1, 14)} and most.covered == 10
    assert most.ranges()[0] == (0, [(9, 11)]) and most.ranges()[1] == (1, [(14, 15)])
    with pytest.raises(ValueError):
        stats.staffing(grid, 0)


def test_attainment_with_staffing_delays_tickets_created_off_shift() -> None:
    monday = datetime(2026, 11, 23)
    cells = frozenset({(0, 9), (0, 10)})  # Monday 09:00-11:00
    tickets = [
        stats.Responded(monday.replace(hour=9, minute=30), 1800, 7200),  # on shift, met
        stats.Responded(monday.replace(hour=9, minute=45), 8000, 7200),  # on shift, missed for real
        stats.Responded(monday.replace(hour=11, minute=30), 600, 7200),  # waits a week: missed
        stats.Responded(monday.replace(hour=8, minute=30), 1800, 7200),  # waits 30 min: 3600 s <= 7200 met
        stats.Responded(monday.replace(hour=8, minute=30), 6000, 7200),  # 1800 + 6000 > 7200: missed
        stats.Responded(monday.replace(hour=9), 60, None),  # no deadline: never met (as in the measures)
    ]
    result = stats.attainment_with_staffing(tickets, cells)
    assert (result.num, result.den) == (2, 6)
    assert stats.next_staffed(monday.replace(hour=11, minute=30), cells) == datetime(2026, 11, 30, 9)
    assert stats.attainment_with_staffing(tickets, frozenset()).num == 0  # nobody staffed: nobody responds


def test_rate_ratio_test_matches_the_binomial_tail_by_hand() -> None:
    # 4 failures, all in a band holding a quarter of the exposure: P = 0.25^4, four times the rate.
    t = stats.rate_ratio_test(4, 1, 4, 4)
    assert t.ratio == 4.0
    assert t.p_value == pytest.approx(0.25**4)
    # 3 of 5 failures in a band with a fifth of the exposure: C(5,3).2^3.8^2 + C(5,4).2^4.8 + .2^5.
    t = stats.rate_ratio_test(3, 2, 5, 10)
    assert t.ratio == 3.0
    assert t.p_value == pytest.approx(0.05792)
    assert stats.rate_ratio_test(0, 2, 5, 10).p_value == 1.0
    with pytest.raises(ValueError):
        stats.rate_ratio_test(6, 2, 5, 10)
    with pytest.raises(ValueError):
        stats.rate_ratio_test(1, 0, 5, 10)


def test_rate_findings_against_each_models_baseline_with_a_minimum_count() -> None:
    failures = {("A", "high"): 12, ("A", "low"): 8, ("B", "high"): 2, ("B", "low"): 18, ("C", "high"): 4}
    exposure = {"high": 14.0, "low": 26.0}  # e.g. tickets of all models per band (C's 4 left out)
    tests, findings = stats.rate_findings(failures, exposure, min_count=5, alpha=0.05)
    a_high = tests[("A", "high")]
    assert a_high.ratio == pytest.approx((12 / 14) / (20 / 40))
    assert a_high.p_value == pytest.approx(binomial_tail(12, 20, 14 / 40))
    # C's 4 failures (all high) are under the minimum count: tested for the table, never a finding.
    assert tests[("C", "high")].failures == 4
    # Bonferroni over the 4 cells with >= 5 failures (threshold 0.0125): A-high's p (~0.0196) misses it,
    # B-low's (18 of B's 20 in a band with 65 % of the exposure, p ~0.0121) just makes it.
    assert binomial_tail(12, 20, 14 / 40) > 0.05 / 4 > binomial_tail(18, 20, 26 / 40)
    assert [(f.group, f.band) for f in findings] == [("B", "low")]
    assert findings[0].test.p_value == pytest.approx(binomial_tail(18, 20, 26 / 40))
    # Ten times the data: every cell above its baseline is now beyond chance, largest ratio first
    # (C: all 40 in a band with 35 % of the exposure, 1 / 0.35 = 2.86; A: 1.71; B-low: 1.38).
    tenfold = {key: n * 10 for key, n in failures.items()}
    _, findings = stats.rate_findings(tenfold, {b: e * 10 for b, e in exposure.items()})
    assert [(f.group, f.band) for f in findings] == [("C", "high"), ("A", "high"), ("B", "low")]
    assert [f.test.ratio for f in findings] == pytest.approx([1 / 0.35, (120 / 140) / (200 / 400), (180 / 260) / 0.5])
    # Asking for an effect of at least 1.5x keeps C (2.86) and A (1.71), drops B-low (1.38).
    _, large = stats.rate_findings(tenfold, {b: e * 10 for b, e in exposure.items()}, min_ratio=1.5)
    assert [(f.group, f.band) for f in large] == [("C", "high"), ("A", "high")]


def test_pareto_orders_by_count_with_running_share() -> None:
    bars = stats.pareto({"c": 2, "a": 5, "b": 3, "d": 0})
    assert [(b.key, b.count, b.cumulative_pct) for b in bars] == [("a", 5, 50.0), ("b", 3, 80.0), ("c", 2, 100.0)]


def test_band_of_uses_half_open_bands() -> None:
    assert [stats.band_of(v, [60, 80]) for v in (10, 60, 79.9, 80, 95)] == [0, 1, 1, 2, 2]


def test_the_wait_table_agrees_with_next_staffed_at_every_quarter_hour_of_a_week() -> None:
    cells = frozenset({(0, 9), (0, 10), (2, 23), (4, 14)})
    monday = datetime(2026, 11, 23)
    for quarter in range(7 * 24 * 4):
        created = monday + timedelta(minutes=15 * quarter + 7)
        wait = (stats.next_staffed(created, cells) - created).total_seconds()
        # Exactly on time with that wait, and one second too slow: the table and next_staffed agree.
        on_time = stats.Responded(created, 600, wait + 600)
        late = stats.Responded(created, 601, wait + 600)
        assert stats.attainment_with_staffing([on_time, late], cells) == stats.Ratio(1, 2), created

"""The statistics behind the KPI dashboards (brief M2, M3): pure functions over plain numbers.

Nothing here knows about tickets, databases or languages; ``processes/kpi/analytics.py`` feeds it
counts and durations and turns the answers into pages.  Kept apart so every figure can be checked on
inputs small enough to compute by hand (``tests/kpi/test_kpi_stats.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from scipy.stats import binom

HOURS = 24
WEEKDAYS = 7  # Monday = 0, as datetime.weekday()


# -- distributions ---------------------------------------------------------------------------------


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile by linear interpolation between order statistics (numpy's default), or None."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Histogram:
    """Counts of values per bucket: bucket i holds edges[i-1] <= v < edges[i] (the first from 0, the
    last unbounded), so ``len(counts) == len(edges) + 1``."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    total: int
    median: float | None
    p90: float | None


def histogram(values: Iterable[float], edges: Sequence[float]) -> Histogram:
    if list(edges) != sorted(set(edges)):
        raise ValueError("bucket edges must be strictly increasing")
    data = [float(v) for v in values]
    counts = [0] * (len(edges) + 1)
    for value in data:
        counts[_bucket(value, edges)] += 1
    return Histogram(tuple(edges), tuple(counts), len(data), quantile(data, 0.5), quantile(data, 0.9))


def _bucket(value: float, edges: Sequence[float]) -> int:
    for i, edge in enumerate(edges):
        if value < edge:
            return i
    return len(edges)


# -- hour of day, weekday -------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    num: int
    den: int

    @property
    def pct(self) -> float | None:
        return round(100.0 * self.num / self.den, 2) if self.den else None


def attainment_by(keys: Iterable[tuple[int, bool]], size: int) -> list[Ratio]:
    """SLA attainment per key (an hour 0–23 or a weekday 0–6): ``(key, met)`` pairs in, one Ratio per key."""
    num, den = [0] * size, [0] * size
    for key, met in keys:
        den[key] += 1
        num[key] += int(met)
    return [Ratio(n, d) for n, d in zip(num, den, strict=True)]


def arrivals_grid(created: Iterable[datetime]) -> list[list[int]]:
    """Tickets per weekday (rows, Monday first) × hour of day (columns); times already on the plant clock."""
    grid = [[0] * HOURS for _ in range(WEEKDAYS)]
    for at in created:
        grid[at.weekday()][at.hour] += 1
    return grid


# -- staffing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffingPlan:
    """The fewest weekday-hours whose arrivals reach ``share`` of all tickets."""

    share: float
    cells: frozenset[tuple[int, int]]  # (weekday, hour)
    covered: int
    total: int

    @property
    def hours(self) -> int:
        return len(self.cells)

    @property
    def covered_pct(self) -> float | None:
        return round(100.0 * self.covered / self.total, 2) if self.total else None

    def ranges(self) -> list[tuple[int, list[tuple[int, int]]]]:
        """Per weekday the staffed hours as [start, end) ranges, e.g. (0, [(8, 12), (13, 18)])."""
        out = []
        for day in range(WEEKDAYS):
            hours = sorted(h for d, h in self.cells if d == day)
            spans: list[tuple[int, int]] = []
            for hour in hours:
                if spans and spans[-1][1] == hour:
                    spans[-1] = (spans[-1][0], hour + 1)
                else:
                    spans.append((hour, hour + 1))
            out.append((day, spans))
        return out


def staffing(grid: Sequence[Sequence[int]], share: float) -> StaffingPlan:
    """Choose weekday-hours busiest first until at least ``share`` (0 < share <= 1) of arrivals fall in them.

    Taking the busiest cells first is optimal for the goal "fewest staffed hours reaching the share":
    any other set of the same size covers at most as many tickets.  Ties go to the earlier weekday and
    hour, so the answer is deterministic.
    """
    if not 0 < share <= 1:
        raise ValueError("share must be above 0 and at most 1")
    total = sum(sum(row) for row in grid)
    cells = sorted(
        ((count, day, hour) for day, row in enumerate(grid) for hour, count in enumerate(row) if count),
        key=lambda c: (-c[0], c[1], c[2]),
    )
    chosen: set[tuple[int, int]] = set()
    covered = 0
    for count, day, hour in cells:
        if total and covered >= share * total:
            break
        chosen.add((day, hour))
        covered += count
    return StaffingPlan(share, frozenset(chosen), covered, total)


@dataclass(frozen=True)
class Responded:
    """A closed ticket as the staffing what-if needs it, on the plant clock (naive local times)."""

    created: datetime
    response_s: float  # on site − created
    due_s: float | None  # response deadline − created; None: no deadline, never met (as in the measures)


def next_staffed(at: datetime, cells: frozenset[tuple[int, int]]) -> datetime | None:
    """The first instant at or after ``at`` inside a staffed weekday-hour (``at`` itself when staffed)."""
    if (at.weekday(), at.hour) in cells:
        return at
    start = at.replace(minute=0, second=0, microsecond=0)
    for step in range(1, WEEKDAYS * HOURS + 1):
        candidate = start + timedelta(hours=step)
        if (candidate.weekday(), candidate.hour) in cells:
            return candidate
    return None


def attainment_with_staffing(tickets: Iterable[Responded], cells: frozenset[tuple[int, int]]) -> Ratio:
    """SLA attainment had only ``cells`` been staffed: a ticket created outside them waits for the next
    staffed hour, then takes the response time it really took; it met the SLA when that still lands
    on or before its deadline.  Tickets created inside staffed hours keep their real outcome.

    The wait is read from a table of the 168 weekday-hours (hours to the next staffed one), so a month
    of tickets costs one lookup each; ``next_staffed`` is the same rule for one instant.
    """
    waits = _waits(cells)
    num = den = 0
    for ticket in tickets:
        den += 1
        if ticket.due_s is None:
            continue
        created = ticket.created
        hours = waits.get((created.weekday(), created.hour))
        if hours is None:
            continue
        into_hour = created.minute * 60 + created.second + created.microsecond / 1e6
        delay = 0.0 if hours == 0 else hours * 3600 - into_hour
        num += int(delay + ticket.response_s <= ticket.due_s)
    return Ratio(num, den)


def _waits(cells: frozenset[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Hours from the start of each weekday-hour to the start of the next staffed one (0: staffed)."""
    if not cells:
        return {}
    waits = {}
    for day in range(WEEKDAYS):
        for hour in range(HOURS):
            index = day * HOURS + hour
            waits[(day, hour)] = next(
                step
                for step in range(WEEKDAYS * HOURS + 1)
                if divmod((index + step) % (WEEKDAYS * HOURS), HOURS) in cells
            )
    return waits


# -- fault rates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateTest:
    """A band's failure rate against the whole's: ``ratio`` = (k/e) / (K/E), one-sided exact p-value."""

    failures: int
    exposure: float
    total_failures: int
    total_exposure: float
    ratio: float | None
    p_value: float


def rate_ratio_test(failures: int, exposure: float, total_failures: int, total_exposure: float) -> RateTest:
    """Is the rate in a band (``failures`` over ``exposure``) above the rate of the whole it is part of?

    The exact conditional test for Poisson rates: given the whole's ``total_failures``, under equal rates
    the band's count is Binomial(total_failures, exposure / total_exposure); the p-value is the chance
    of at least ``failures`` (one-sided, "above").
    """
    if not 0 <= failures <= total_failures:
        raise ValueError("a band's failures must be between 0 and the total")
    if not 0 < exposure <= total_exposure:
        raise ValueError("a band's exposure must be above 0 and at most the total")
    share = exposure / total_exposure
    ratio = (failures / exposure) / (total_failures / total_exposure) if total_failures else None
    p_value = float(binom.sf(failures - 1, total_failures, share)) if failures else 1.0
    return RateTest(failures, exposure, total_failures, total_exposure, ratio, p_value)


@dataclass(frozen=True)
class Finding:
    group: str  # e.g. a device model
    band: str
    test: RateTest


def rate_findings(
    failures: Mapping[tuple[str, str], int],
    exposure: Mapping[str, float],
    *,
    min_count: int = 5,
    alpha: float = 0.05,
    min_ratio: float = 1.0,
) -> tuple[dict[tuple[str, str], RateTest], list[Finding]]:
    """Rate ratio of every (group, band) against the group's own baseline, and the significant ones.

    ``failures`` counts failures per (group, band); ``exposure`` is each band's exposure, shared by all
    groups (e.g. how many tickets of all models came from that band).  A group's baseline is its rate
    over all bands.  Cells with fewer than ``min_count`` failures are not tested (too few to tell); the
    rest are tested at ``alpha`` with a Bonferroni correction over the cells tested, so a dashboard
    full of cells does not find something by chance.  ``min_ratio`` asks for an effect worth acting on as
    well: with thousands of tickets a 1.1× difference is "significant" and still nothing to fix (and when
    one model is far off, the others shift a little the other way).  Findings come largest ratio first.
    """
    groups = sorted({g for g, _ in failures})
    total_exposure = float(sum(exposure.values()))
    tests: dict[tuple[str, str], RateTest] = {}
    for group in groups:
        group_total = sum(n for (g, _), n in failures.items() if g == group)
        for band, band_exposure in exposure.items():
            if band_exposure <= 0:
                continue
            count = failures.get((group, band), 0)
            tests[(group, band)] = rate_ratio_test(count, band_exposure, group_total, total_exposure)
    tested = [(key, t) for key, t in tests.items() if t.failures >= min_count]
    threshold = alpha / len(tested) if tested else alpha
    findings = [
        Finding(group, band, t)
        for (group, band), t in tested
        if t.ratio is not None and t.ratio > 1 and t.ratio >= min_ratio and t.p_value < threshold
    ]
    findings.sort(key=lambda f: (-(f.test.ratio or 0), f.group, f.band))
    return tests, findings


def band_of(value: float, edges: Sequence[float]) -> int:
    """The band index of ``value``: 0 below edges[0], i for edges[i-1] <= value < edges[i], len at or above the last."""
    return _bucket(value, edges)


# -- Pareto ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParetoBar:
    key: str
    count: int
    cumulative_pct: float


def pareto(counts: Mapping[str, int]) -> list[ParetoBar]:
    """Causes by count, largest first (ties by key), with the running share of the total."""
    total = sum(counts.values())
    bars, running = [], 0
    for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if count <= 0:
            continue
        running += count
        bars.append(ParetoBar(key, count, round(100.0 * running / total, 2)))
    return bars

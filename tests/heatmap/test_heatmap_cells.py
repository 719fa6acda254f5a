"""The heat map's roll-up ``heat_cell`` (issue 13 part B, speed): kept incrementally, it must always equal a
recomputation from the visits, and a heat map over whole days read from it must equal the one
aggregated from the visits, for every filter the page offers.

The data is random (seeded per test run, printed on failure): journals over two and a half months with
loops, stays across midnights and month ends and completions at 00:00:00 and 23:59:59.999999, written in
several rounds with heat maps between them, tickets re-filed between rounds (urgency changed, engineer
reassigned or removed, a device's type and an engineer's group edited), one instance without a ticket.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from engine.models import Deployment, JournalEvent, ProcessInstance
from processes.devices.models import Device
from processes.engineers.models import Engineer
from processes.heatmap import cells
from processes.heatmap.models import HeatCell, HeatProgress, HeatVisit
from processes.heatmap.service import HeatFilter, HeatMap, from_cells, from_visits, heat_map, whole_days
from processes.heatmap.visits import catch_up
from processes.tickets.models import Ticket

START = datetime(2026, 1, 20, tzinfo=UTC)
ELEMENTS = ("start", "triage", "fix", "check", "end")
URGENCIES = ("red", "orange", "yellow", "blue")


def _recomputed(session) -> dict[tuple, tuple[int, list[float]]]:  # noqa: ANN001
    """Every cell as it should be, computed here in Python from the visits' timestamps and the ticket values
    ``heat_progress`` says they are counted under."""
    v, hp = HeatVisit, HeatProgress
    rows = session.execute(
        select(
            v.process_id,
            v.deployment_id,
            v.element_id,
            v.prev_element,
            v.left_at,
            v.entered_at,
            v.prev_visit_at,
            v.stay_s,
            hp.urgency,
            hp.device_type,
            hp.engineer_group,
        ).join(hp, (hp.instance_id == v.instance_id) & (v.seq <= hp.cell_seq))
    ).all()
    expected: dict[tuple, tuple[int, list[float]]] = {}
    for process, deployment, element, previous, left, entered, prev_visit, stay, *dims in rows:
        days = [
            None if t is None else (t.astimezone(UTC).date() - date(1970, 1, 1)).days
            for t in (left, entered, prev_visit)
        ]
        for key in cells.cell_keys((process, deployment, element, previous, *days), tuple(dims)):
            count, stays = expected.get(key, (0, []))
            expected[key] = (count + 1, [*stays, float(stay)] if entered is not None else stays)
    return {k: (n, sorted(s)) for k, (n, s) in expected.items()}


def _stored(session) -> dict[tuple, tuple[int, list[float]]]:  # noqa: ANN001
    columns = [getattr(HeatCell, name) for name in cells.KEY_COLUMNS]
    return {
        tuple(row[:-2]): (row[-2], sorted(cells.np.frombuffer(row[-1], dtype=cells.STAYS).tolist()))
        for row in session.execute(select(*columns, HeatCell.visits, HeatCell.stays))
    }


def _live_dims(session) -> dict[int, tuple[str, str, str]]:  # noqa: ANN001
    rows = session.execute(
        select(ProcessInstance.id, Ticket.urgency, Device.device_type, Engineer.group)
        .outerjoin(Ticket, Ticket.process_instance_id == ProcessInstance.id)
        .outerjoin(Device, Device.id == Ticket.device_id)
        .outerjoin(Engineer, Engineer.id == Ticket.engineer_id)
    )
    return {i: (u or "", d or "", g or "") for i, u, d, g in rows}


def assert_roll_up_is_exact(session) -> None:  # noqa: ANN001
    """The stored cells equal the recomputation, and every instance is counted up to its projected seq
    under its ticket's values of now."""
    assert _stored(session) == _recomputed(session)
    progress = {p.instance_id: p for p in session.scalars(select(HeatProgress))}
    live = _live_dims(session)
    for instance_id, dims in live.items():
        row = progress[instance_id]
        assert row.cell_seq == row.seq, instance_id
        assert (row.urgency, row.device_type, row.engineer_group) == dims, instance_id


def assert_same_heat(cells_map: HeatMap, visits_map: HeatMap, label: str) -> None:
    """Counts, flows and quantiles identical; totals equal up to the order floats were added in."""
    assert cells_map.tickets == visits_map.tickets, label
    assert cells_map.flows == visits_map.flows, label
    assert [n.element_id for n in cells_map.nodes] == [n.element_id for n in visits_map.nodes], label
    for mine, theirs in zip(cells_map.nodes, visits_map.nodes, strict=True):
        assert (mine.visits, mine.tickets, mine.median_s, mine.p90_s) == (
            theirs.visits,
            theirs.tickets,
            theirs.median_s,
            theirs.p90_s,
        ), (label, mine, theirs)
        assert mine.total_s == pytest.approx(theirs.total_s, rel=1e-9, abs=1e-6), (label, mine, theirs)


def ticket_row(number: str, instance_id: int, urgency: str, device: Device, engineer: int | None) -> dict[str, Any]:
    """A ticket of ``instance_id`` on ``device`` with the values the heat map filters by."""
    return {
        "number": number,
        "source_channel": "phone",
        "urgency": urgency,
        "problem_description": "heat map",
        "extra": {},
        "customer_id": device.customer_id,
        "site_id": device.site_id,
        "device_id": device.id,
        "engineer_id": engineer,
        "process_instance_id": instance_id,
        "created_by_role": "agent",
        "status": "open",
        "created_at": START,
        "customer_link_nonce": f"{instance_id:032d}",
    }


class World:
    """Random journals written round by round, with their tickets."""

    def __init__(self, session, rng: random.Random) -> None:  # noqa: ANN001
        self.rng = rng
        self.devices = list(session.scalars(select(Device).order_by(Device.id)))
        self.engineers = list(session.scalars(select(Engineer.id).order_by(Engineer.id)))
        self.deployments = []
        for n in (1, 2):
            row = Deployment(
                content_hash=f"cells{n}".ljust(64, "0"),
                files={},
                process_ids=["p"],
                created_at=START,
                activated_at=START,
                activation=200 + n,
                created_by="test",
            )
            session.add(row)
            self.deployments.append(row)
        session.flush()
        self.clock: dict[int, datetime] = {}
        self.seq: dict[int, int] = {}

    def new_instances(self, session, count: int, with_ticket: bool = True) -> None:  # noqa: ANN001
        for _ in range(count):
            instance = ProcessInstance(
                deployment_id=self.rng.choice(self.deployments).id,
                process_id="p",
                business_key=f"cells-{self.rng.random()}",
                status="waiting",
                version=1,
                needs_advance=False,
                workflow_state={},
                journal_head="0" * 64,
                journal_seq=0,
                created_at=START,
                updated_at=START,
            )
            session.add(instance)
            session.flush()
            self.clock[instance.id] = START + timedelta(seconds=self.rng.uniform(0, 70 * 86400))
            self.seq[instance.id] = 0
            self.append(session, instance.id, ["start"])
            if with_ticket:
                device = self.rng.choice(self.devices)
                engineer = self.rng.choice([None, *self.engineers])
                urgency = self.rng.choice(URGENCIES)
                session.execute(
                    insert(Ticket), [ticket_row(f"C-{instance.id:06d}", instance.id, urgency, device, engineer)]
                )

    def append(self, session, instance_id: int, elements: list[str]) -> None:  # noqa: ANN001
        rows = []
        for element in elements:
            wait = self.rng.choice([0.0, 30.0, self.rng.uniform(1, 7200), self.rng.uniform(3600, 5 * 86400)])
            at = self.clock[instance_id] + timedelta(seconds=wait)
            if self.rng.random() < 0.1:  # on a day's edge
                day = at.replace(hour=0, minute=0, second=0, microsecond=0)
                at = max(self.clock[instance_id], self.rng.choice([day, day + timedelta(days=1, microseconds=-1)]))
            self.clock[instance_id] = at
            if self.rng.random() < 0.3:  # rows that are not completions
                self.seq[instance_id] += 1
                rows.append((self.seq[instance_id], "task_deferred", element, at))
            self.seq[instance_id] += 1
            rows.append(
                (self.seq[instance_id], self.rng.choice(["task_completed", "user_task_completed"]), element, at)
            )
        session.execute(
            insert(JournalEvent),
            [
                {
                    "instance_id": instance_id,
                    "seq": seq,
                    "at": at,
                    "actor": "t",
                    "kind": kind,
                    "deployment_hash": "0" * 64,
                    "task_id": f"{instance_id}-{seq}",
                    "task_spec": element,
                    "task_name": None,
                    "input": {},
                    "changes": None,
                    "prev_hash": "0" * 64,
                    "hash": "0" * 64,
                }
                for seq, kind, element, at in rows
            ],
        )
        session.execute(
            update(ProcessInstance).where(ProcessInstance.id == instance_id).values(journal_seq=self.seq[instance_id])
        )

    def grow(self, session) -> None:  # noqa: ANN001
        """Some instances take a few more steps (loops back included)."""
        for instance_id in self.rng.sample(sorted(self.seq), k=max(1, len(self.seq) // 2)):
            self.append(session, instance_id, self.rng.choices(ELEMENTS[1:], k=self.rng.randint(1, 4)))

    def refile(self, session) -> None:  # noqa: ANN001
        """Change what the ticket filters see: urgencies, engineers, a device's type, an engineer's group."""
        tickets = list(session.scalars(select(Ticket).where(Ticket.number.like("C-%"))))
        for ticket in self.rng.sample(tickets, k=max(1, len(tickets) // 4)):
            ticket.urgency = self.rng.choice(URGENCIES)
            ticket.engineer_id = self.rng.choice([None, *self.engineers])
        device = self.rng.choice(self.devices)
        device.device_type = self.rng.choice(["grinder", "cnc_lathe", "renamed_type"])
        engineer = session.get(Engineer, self.rng.choice(self.engineers))
        engineer.group = self.rng.choice(["east", "north", "south"])
        session.flush()


def _periods(rng: random.Random) -> list[tuple[datetime, datetime]]:
    whole = [
        (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)),  # months only
        (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),  # one month
        (datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)),  # a day, a month, a day
        (datetime(2026, 2, 10, tzinfo=UTC), datetime(2026, 2, 11, tzinfo=UTC)),  # one day
    ]
    for _ in range(6):
        first = START + timedelta(days=rng.randint(-5, 70))
        whole.append((first, first + timedelta(days=rng.randint(1, 60))))
    return whole


def _filters(period: tuple[datetime, datetime], deployments: list[int]) -> list[HeatFilter]:
    base = HeatFilter("p", *period)
    return [
        base,
        replace(base, urgency="yellow"),
        replace(base, device_type="grinder"),
        replace(base, engineer_group="east"),
        replace(base, urgency="red", engineer_group="north"),
        replace(base, urgency="blue", device_type="cnc_lathe", engineer_group="south"),
        replace(base, deployment_id=deployments[1]),
        replace(base, deployment_id=deployments[0], urgency="orange"),
    ]


def test_the_roll_up_kept_round_by_round_equals_its_recomputation_and_the_visits(platform) -> None:  # noqa: ANN001
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    with platform.db.session() as session:
        world = World(session, rng)
        world.new_instances(session, 40)
        world.new_instances(session, 2, with_ticket=False)
        deployments = [d.id for d in world.deployments]
    for round_ in range(4):
        with platform.db.session() as session:
            heat_map(session, HeatFilter("p", START, START + timedelta(days=1)))  # catches up
            assert_roll_up_is_exact(session)
            for period in _periods(rng):
                assert whole_days(HeatFilter("p", *period)) is not None
                for where in _filters(period, deployments):
                    label = f"seed {seed} round {round_} {where}"
                    assert_same_heat(from_cells(session, where, *whole_days(where)), from_visits(session, where), label)
        with platform.db.session() as session:
            world.grow(session)
            world.new_instances(session, 5)
            world.refile(session)
    with platform.db.session() as session:
        assert catch_up(session) > 0
        assert_roll_up_is_exact(session)
        assert catch_up(session) == 0  # nothing left: a second run changes nothing
        assert_roll_up_is_exact(session)


def test_a_run_that_fails_midway_loses_nothing_and_the_next_one_finishes_it(platform, monkeypatch) -> None:  # noqa: ANN001
    rng = random.Random(7)
    with platform.db.session() as session:
        world = World(session, rng)
        world.new_instances(session, 20)
    with platform.db.session() as session:
        catch_up(session)
    with platform.db.session() as session:
        world.grow(session)
        world.refile(session)
    real_apply = cells._apply

    def apply_then_crash(session, deltas) -> None:  # noqa: ANN001
        real_apply(session, deltas)  # the cells are written …
        raise RuntimeError("worker killed")  # … and the run dies before its progress is

    monkeypatch.setattr(cells, "_apply", apply_then_crash)
    with platform.db.session() as session:
        visits_before = session.scalar(select(func.count()).select_from(HeatVisit))
        with pytest.raises(RuntimeError, match="worker killed"):
            catch_up(session)
    with platform.db.session() as session:  # nothing of the failed run stayed
        assert session.scalar(select(func.count()).select_from(HeatVisit)) == visits_before
        assert session.scalar(select(func.count()).select_from(cells.CELLS).where(HeatCell.visits < 0)) == 0
        assert _stored(session) == _recomputed(session)
    monkeypatch.setattr(cells, "_apply", real_apply)
    with platform.db.session() as session:
        assert catch_up(session) > 0
        assert_roll_up_is_exact(session)


def test_a_stay_the_cells_never_counted_cannot_be_taken_out() -> None:
    delta = cells.Delta()
    delta.removed.append(60.0)
    packed = cells.np.asarray([30.0, 90.0], dtype=cells.STAYS).tobytes()
    with pytest.raises(RuntimeError, match="lost a stay"):
        cells.merged(packed, delta)
    delta = cells.Delta()
    delta.added += [60.0, 10.0]
    delta.removed.append(90.0)
    assert cells.merged(packed, delta).tolist() == [10.0, 30.0, 60.0]


@pytest.mark.parametrize("seed", range(5))
def test_the_buckets_of_a_period_cover_each_of_its_days_once(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(300):
        first = rng.randint(19_000, 21_000)
        end = first + rng.randint(0, 800)
        covered: list[int] = []
        for span, low, high in cells.buckets(first, end):
            if span == "d":
                covered += range(low, high + 1)
            else:
                month = low
                while month <= high:
                    assert cells.month_of(month) == month
                    covered += range(month, cells.next_month(month))
                    month = cells.next_month(month)
        assert covered == list(range(first, end)), (first, end)


def _tickets_on_hand_set(platform, hand_set: dict[str, int]) -> dict[str, Any]:  # noqa: ANN001
    """Tickets for the hand-computed instances A, B, C: A red on a grinder with an east engineer, B yellow on
    a grinder with a north engineer, C yellow on a lathe with nobody."""
    with platform.db.session() as session:
        grinder = session.scalars(select(Device).where(Device.device_type == "grinder")).first()
        lathe = session.scalars(select(Device).where(Device.device_type == "cnc_lathe")).first()
        east = session.scalars(select(Engineer.id).where(Engineer.group == "east")).first()
        north = session.scalars(select(Engineer.id).where(Engineer.group == "north")).first()
        plan = {"A": ("red", grinder, east), "B": ("yellow", grinder, north), "C": ("yellow", lathe, None)}
        for name, (urgency, device, engineer) in plan.items():
            instance_id = session.scalar(
                select(ProcessInstance.id).where(ProcessInstance.business_key == f"heat-{name}")
            )
            session.execute(insert(Ticket), [ticket_row(f"H-{name}", instance_id, urgency, device, engineer)])
        return {"north": north}


DAY = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC))


def _visits(heat: HeatMap) -> dict[str, int]:
    return {n.element_id: n.visits for n in heat.nodes}


def test_ticket_filters_on_the_hand_computed_set_and_a_refiled_ticket(platform, hand_set) -> None:  # noqa: ANN001
    people = _tickets_on_hand_set(platform, hand_set)
    with platform.db.session() as session:
        red = heat_map(session, HeatFilter("p", *DAY, urgency="red"))
        yellow = heat_map(session, HeatFilter("p", *DAY, urgency="yellow"))
        grinders = heat_map(session, HeatFilter("p", *DAY, device_type="grinder"))
        north = heat_map(session, HeatFilter("p", *DAY, engineer_group="north"))
        nobody = heat_map(session, HeatFilter("p", *DAY, urgency="yellow", engineer_group="east"))
    # A: start, triage 60, fix 600, end 30
    assert (red.tickets, _visits(red)) == (1, {"start": 1, "triage": 1, "fix": 1, "end": 1})
    assert {n.element_id: n.median_s for n in red.nodes} == pytest.approx(
        {"start": None, "triage": 60, "fix": 600, "end": 30}, abs=0.01
    )
    # B and C: triage stays 120, 180, 240 -> median 180, p90 240; fix 300, 900 -> median 300
    assert (yellow.tickets, _visits(yellow)) == (2, {"start": 2, "triage": 3, "fix": 2, "end": 2})
    triage = {n.element_id: n for n in yellow.nodes}["triage"]
    assert (triage.median_s, triage.p90_s, triage.tickets) == pytest.approx((180, 240, 2), abs=0.01)
    assert {n.element_id: n.median_s for n in yellow.nodes}["fix"] == pytest.approx(300, abs=0.01)
    assert grinders.tickets == 2 and _visits(grinders) == {"start": 2, "triage": 3, "fix": 3, "end": 2}
    assert north.tickets == 1 and _visits(north) == {"start": 1, "triage": 2, "fix": 2, "end": 1}
    assert nobody.tickets == 0 and nobody.nodes == ()
    with platform.db.session() as session:  # C gets B's engineer and turns red
        session.execute(update(Ticket).where(Ticket.number == "H-C").values(engineer_id=people["north"], urgency="red"))
    with platform.db.session() as session:
        red = heat_map(session, HeatFilter("p", *DAY, urgency="red"))
        north = heat_map(session, HeatFilter("p", *DAY, engineer_group="north"))
        assert_roll_up_is_exact(session)
    assert (red.tickets, _visits(red)) == (2, {"start": 2, "triage": 2, "fix": 1, "end": 2})
    assert north.tickets == 2 and _visits(north) == {"start": 2, "triage": 3, "fix": 2, "end": 2}


def test_journals_projected_before_0032_are_counted_by_the_first_heat_map_after_it(empty_database_url: str) -> None:
    """An installation at 0019 with a journal: 0020 projects its visits, 0032 adds the roll-up empty, the
    first heat map fills it, and a downgrade to 0027 and back keeps working."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from engine.db import Database
    from processes.platform_paths import ROOT

    url = empty_database_url
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "0019")
    engine = create_engine(url)
    steps = [("start", "2026-11-01 08:00:00"), ("triage", "2026-11-01 08:01:00"), ("fix", "2026-11-01 08:11:00")]
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO deployment (id, content_hash, files, process_ids, created_at, activated_at, created_by) "
                "VALUES (1, :hash, '{}', '[\"p\"]', :at, :at, 'test')"
            ),
            {"hash": "1" * 64, "at": steps[0][1]},
        )
        connection.execute(
            text(
                "INSERT INTO process_instance (id, deployment_id, process_id, status, version, needs_advance, "
                "workflow_state, journal_head, journal_seq, created_at, updated_at) "
                "VALUES (1, 1, 'p', 'waiting', 3, false, '{}', :head, 3, :at, :at)"
            ),
            {"head": "0" * 64, "at": steps[0][1]},
        )
        for seq, (element, at) in enumerate(steps, start=1):
            connection.execute(
                text(
                    "INSERT INTO journal_event (instance_id, seq, at, actor, kind, task_spec, deployment_hash, "
                    "prev_hash, hash) VALUES (1, :seq, :at, 'engine', 'task_completed', :spec, :dep, :h, :h)"
                ),
                {"seq": seq, "at": at, "spec": element, "dep": "1" * 64, "h": str(seq) * 64},
            )
    engine.dispose()
    command.upgrade(config, "head")
    command.downgrade(config, "0027")
    command.upgrade(config, "head")
    db = Database(url)
    try:
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(HeatCell)) == 0
            heat = heat_map(session, HeatFilter("p", *DAY))
        assert heat.tickets == 1 and _visits(heat) == {"start": 1, "triage": 1, "fix": 1}
        assert {n.element_id: n.median_s for n in heat.nodes} == pytest.approx(
            {"start": None, "triage": 60, "fix": 600}, abs=0.01
        )
        with db.session() as session:
            assert session.scalar(select(func.sum(HeatCell.visits)).where(HeatCell.span == "d")) == 3
            assert_roll_up_is_exact(session)
    finally:
        db.dispose()


def test_a_reader_finding_the_projection_busy_reads_what_is_committed(platform, hand_set) -> None:  # noqa: ANN001
    """PostgreSQL: while another connection holds the projection's advisory lock a heat map projects nothing
    (it neither waits nor counts twice) and shows what was committed; once the lock is free it catches up.
    SQLite queues writers on the database itself, so there the reader simply catches up."""
    from sqlalchemy import text

    from processes.heatmap.visits import LOCK

    postgres = platform.db.engine.dialect.name == "postgresql"
    holder = platform.db.engine.connect()
    try:
        if postgres:
            holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK})
        with platform.db.session() as session:
            heat = heat_map(session, HeatFilter("p", *DAY))
        assert heat.tickets == (0 if postgres else 3)
    finally:
        if postgres:
            holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK})
        holder.close()
    with platform.db.session() as session:
        assert heat_map(session, HeatFilter("p", *DAY)).tickets == 3
        assert_roll_up_is_exact(session)

"""Three months of plausible service history for the demo plant, so a fresh ``make run`` has dashboards.

The story is the seed's: the plant starts around 70 % first-time fixes and 20 % rework and improves
month by month towards the seed's 89 % and 7 % (the demo reaches about 86 % and 8 %).  Tickets arrive
mostly in working hours (fewer at weekends and at night, and night tickets wait longer for an engineer,
so the staffing view has something to say), and
one machining-centre model fails three times as often when the site's humidity is at or above 80 %, so
the fault heat map has a finding.  Everything enters through ``recording`` like an import (source
"import", ``import_source`` ``DEMO_SOURCE``), so the measures count it exactly like real history, and
nothing starts a lifecycle or a notification.  Deterministic: the same clock gives the same history.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..devices.models import Device
from ..rootcauses.service import SEED as ROOT_CAUSES
from . import recording
from .models import ServiceCase

DEMO_SOURCE = "demo"
DAYS = 91
HUMID_MODEL = "VMC1060 (Siemens 840D sl)"
# The demo plant has 60 machines; its history also covers the rest of the installed base (machines
# that had tickets before but are not in the device table), so recurrences are not all coincidences.
FLEET = 1500
# Response deadlines of urgency_response.dmn, and how often each urgency is reported.
DEADLINES = {
    "red": timedelta(minutes=30),
    "orange": timedelta(hours=1),
    "yellow": timedelta(hours=24),
    "blue": timedelta(hours=72),
}
URGENCY_WEIGHTS = {"red": 1, "orange": 3, "yellow": 10, "blue": 6}
# Arrivals per hour of day (relative), and per weekday (Monday first).
HOURLY = [1, 1, 1, 1, 1, 2, 3, 6, 10, 12, 11, 9, 6, 8, 11, 12, 10, 8, 5, 4, 3, 2, 2, 1]
DAILY = [1.0, 1.0, 0.95, 0.95, 0.9, 0.45, 0.3]
PER_DAY = 15  # a weekday's mean arrivals
PROBLEMS = {
    "cnc_lathe": ["FANUC", "spindle", "cnc_lathe"],
    "machining_center": ["Siemens 840D", "spindle", "coolant system"],
    "hydraulic_press": ["hydraulic valve block", "hydraulic_press"],
    "injection_molding": ["PLC programming", "injection_molding"],
    "grinder": ["spindle", "grinder"],
    "coolant_unit": ["coolant system", "coolant_unit"],
}


@dataclass(frozen=True)
class Machine:
    device_id: int | None
    key: str
    model: str
    device_type: str
    site_id: int | None


def fleet(devices: list[Device]) -> list[Machine]:
    """The demo's devices, then history-only machines of the same models (keyed by serial)."""
    machines = [Machine(d.id, str(d.id), d.model, d.device_type, d.site_id) for d in devices]
    models = sorted({(d.device_type, d.model) for d in devices})
    for n in range(FLEET - len(machines)):
        device_type, model = models[n % len(models)]
        machines.append(Machine(None, f"NB-H{n + 1:05d}", model, device_type, None))
    return machines


@dataclass(frozen=True)
class Plan:
    """How good the service was at a point of the three months (0 = start, 1 = now)."""

    rework: float
    recurrence: float

    @classmethod
    def at(cls, progress: float) -> Plan:
        return cls(rework=0.25 + (0.05 - 0.25) * progress, recurrence=0.10 + (0.02 - 0.10) * progress)


def load(session: Session, now: datetime, timezone: str) -> int:
    """Record the demo history ending at ``now``; returns how many cases were added (0 if already there)."""
    if session.scalar(select(func.count()).select_from(ServiceCase).where(ServiceCase.import_source == DEMO_SOURCE)):
        return 0
    devices = list(session.scalars(select(Device).order_by(Device.id)))
    if not devices:
        return 0
    machines = fleet(devices)
    rng = random.Random(20260115)
    zone = ZoneInfo(timezone)
    start_day = (now.astimezone(zone) - timedelta(days=DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    added = 0
    pending_recurrences: list[tuple[datetime, Machine, str, float]] = []
    for day in range(DAYS + 1):
        midnight = start_day + timedelta(days=day)
        mean = PER_DAY * DAILY[midnight.weekday()]
        for _ in range(_poisson(rng, mean)):
            created = midnight + timedelta(hours=_hour(rng), minutes=rng.uniform(0, 60))
            device, humidity = _device_and_humidity(rng, machines)
            problem = rng.choice(PROBLEMS.get(device.device_type, [device.device_type]))
            added += _ticket(session, rng, now, created, device, problem, humidity, pending_recurrences, added)
        # Recurrences fall due when their day comes, so they arrive in creation order like real tickets.
        due = [r for r in pending_recurrences if r[0] < midnight + timedelta(days=1)]
        pending_recurrences = [r for r in pending_recurrences if r[0] >= midnight + timedelta(days=1)]
        for created, device, problem, humidity in due:
            added += _ticket(session, rng, now, created, device, problem, humidity, pending_recurrences, added)
    session.flush()
    return added


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means of a day's tickets."""
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _hour(rng: random.Random) -> int:
    return rng.choices(range(24), weights=HOURLY)[0]


def _device_and_humidity(rng: random.Random, devices: list[Machine]) -> tuple[Machine, int]:
    """A device and the humidity at its site that day; ``HUMID_MODEL`` fails 3× as often at >= 80 %."""
    while True:
        device = rng.choice(devices)
        humidity = int(min(98, max(30, rng.gauss(66, 13))))
        weak = device.model == HUMID_MODEL and humidity >= 80
        if weak or rng.random() < 1 / 3:
            return device, humidity


def _ticket(
    session: Session,
    rng: random.Random,
    now: datetime,
    created: datetime,
    device: Machine,
    problem: str,
    humidity: float,
    recurrences: list[tuple[datetime, Machine, str, float]],
    serial: int,
) -> int:
    if created >= now:
        return 0
    progress = min(1.0, max(0.0, 1 - (now - created).days / DAYS))
    plan = Plan.at(progress)
    urgency = rng.choices(list(URGENCY_WEIGHTS), weights=list(URGENCY_WEIGHTS.values()))[0]
    due = created + DEADLINES[urgency]
    case = recording.open_case(
        session,
        key=f"DEMO-{created:%y%m%d}-{serial + 1:05d}",
        created_at=created,
        source="import",
        import_source=DEMO_SOURCE,
        device_id=device.device_id,
        device_key=device.key,
        device_model=device.model,
        device_type=device.device_type,
        problem_code=problem,
        urgency=urgency,
        site_id=device.site_id,
        response_due_at=due,
        attributes={
            "humidity_pct": humidity,
            "root_cause": rng.choices([c[0] for c in ROOT_CAUSES], weights=[3, 4, 5, 6, 2, 2, 8])[0],
        },
    )
    night = created.hour < 7 or created.hour >= 20
    offered = created + timedelta(minutes=rng.uniform(1, 5))
    accepted_offer = offered + timedelta(minutes=rng.lognormvariate(math.log(2.3 + 12 * (1 - progress)), 0.5))
    # Urgent tickets are driven to fast; night tickets wait for the morning shift often.
    typical = {"red": 25, "orange": 50, "yellow": 180, "blue": 600}[urgency]
    response = timedelta(minutes=rng.lognormvariate(math.log(typical), 0.45))
    if night and rng.random() < 0.7:
        response += timedelta(hours=rng.uniform(3, 9))
    on_site = created + response
    requested = on_site + timedelta(hours=rng.uniform(0.5, 4))
    events: list[tuple[str, datetime]] = [
        ("offered", offered),
        ("engineer_accepted", max(accepted_offer, offered)),
        ("on_site", on_site),
        ("acceptance_requested", requested),
    ]
    at = requested
    if rng.random() < plan.rework:
        for _ in range(2 if rng.random() < 0.15 else 1):
            at += timedelta(hours=rng.uniform(1, 6))
            events.append(("customer_rejected", at))
            at += timedelta(hours=rng.uniform(2, 20))
            events.append(("acceptance_requested", at))
    at += timedelta(hours=rng.uniform(0.2, 8))
    events.append(("accepted", at))
    for event, when in events:
        if when >= now:
            break
        recording.record(session, case, event, when, source="import")
    if at < now and rng.random() < plan.recurrence:
        recurrences.append((at + timedelta(days=rng.uniform(0.3, 6.8)), device, problem, humidity))
    return 1

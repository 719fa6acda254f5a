"""Seeded synthetic scenarios: a metropolitan machine-tool service area, for benchmarks and tests.

Shape of the world, fixed before any greedy/batch figure was looked at:
* Customer sites cluster in industrial parks (8 parks, 3-22 km from the city centre, sigma 1.5 km);
  15 % of sites are scattered over a 25 km disc.
* Engineers live near parks (60 %) or in residential areas anywhere within 20 km (40 %); radius is the
  policy default 5 km for half of them, 10 km or 15 km for the rest; 40 % are out on a job (current
  position at some site).
* Each engineer knows one control brand (25 % a second one) and 2-4 repair skills; demand for skills
  (ticket faults) and supply (engineer skills) have different mixes, as in real service fleets where
  PLC and hydraulics specialists are scarcer than the work for them.
* Free slots are spread over engineers so that tickets / free slots = `slot_use`; an engineer left with
  no slot is "full".
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

CENTRE = (31.30, 120.62)
BRANDS = {"FANUC": 45, "Siemens 840D": 30, "Mitsubishi M80": 15, "Heidenhain TNC": 10}
# device type -> (required skills, popularity, fault skills that occur on it)
DEVICES: dict[str, tuple[list[str], int, list[str]]] = {
    "FANUC CNC lathe": (["FANUC"], 25, ["spindle", "servo drive", "ball screw", "coolant system", "tool changer"]),
    "FANUC machining centre": (["FANUC"], 15, ["spindle", "tool changer", "servo drive", "PLC programming"]),
    "Siemens 840D machining centre": (
        ["Siemens 840D"],
        15,
        ["spindle", "tool changer", "PLC programming", "servo drive"],
    ),
    "Siemens 840D grinder": (["Siemens 840D"], 8, ["spindle", "coolant system", "hydraulic valve block"]),
    "Mitsubishi M80 lathe": (["Mitsubishi M80"], 10, ["spindle", "ball screw", "coolant system"]),
    "Heidenhain 5-axis mill": (["Heidenhain TNC"], 5, ["spindle", "servo drive", "ball screw"]),
    "hydraulic press": (
        ["hydraulic valve block"],
        12,
        ["hydraulic valve block", "electrical cabinet", "PLC programming"],
    ),
    "injection moulding machine": (
        ["hydraulic valve block"],
        10,
        ["hydraulic valve block", "coolant system", "electrical cabinet"],
    ),
}
REPAIR_SUPPLY = {
    "spindle": 20,
    "hydraulic valve block": 10,
    "coolant system": 14,
    "PLC programming": 6,
    "servo drive": 12,
    "ball screw": 12,
    "tool changer": 12,
    "electrical cabinet": 14,
}
FAULT_PHRASES = {
    "spindle": ["主轴异响", "spindle noise", "主轴过热", "spindle overheating"],
    "hydraulic valve block": ["液压站压力不足", "hydraulic pressure drop", "液压阀块漏油"],
    "coolant system": ["冷却液泄漏", "coolant leak", "冷却泵不出水"],
    "PLC programming": ["PLC报警", "PLC program error", "梯形图修改"],
    "servo drive": ["伺服报警", "servo alarm", "伺服过载"],
    "ball screw": ["丝杠间隙大", "ball screw backlash"],
    "tool changer": ["换刀卡刀", "tool changer jam", "刀库故障"],
    "electrical cabinet": ["电柜跳闸", "cabinet breaker trips"],
}
TEMPLATES_ZH = ["客户反映{}，需要尽快处理", "{}，设备停机", "早班发现{}"]
TEMPLATES_EN = ["Customer reports {} on line 3", "{} since this morning, machine stopped", "Operator noticed {}"]
URGENCY = {"red": 0.08, "orange": 0.17, "yellow": 0.30, "blue": 0.45}
KM_PER_DEG_LAT = 111.2


def _offset(rng: np.random.Generator, origin: tuple[float, float], dx_km: float, dy_km: float) -> dict:
    lat = origin[0] + dy_km / KM_PER_DEG_LAT
    lon = origin[1] + dx_km / (KM_PER_DEG_LAT * math.cos(math.radians(origin[0])))
    return {"lat": round(lat, 6), "lon": round(lon, 6)}


def _in_disc(rng: np.random.Generator, radius_km: float) -> tuple[float, float]:
    r = radius_km * math.sqrt(rng.random())
    a = rng.random() * 2 * math.pi
    return r * math.cos(a), r * math.sin(a)


def _pick(rng: np.random.Generator, weights: Mapping[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def generate_scenario(n_engineers: int, n_tickets: int, slot_use: float = 0.8, seed: int = 0) -> dict[str, object]:
    """A scenario document (see docs/dispatch-scenario.md) with `n_tickets` waiting tickets."""
    rng = np.random.default_rng(seed)
    parks = []
    for _ in range(8):
        distance, angle = rng.uniform(3, 22), rng.uniform(0, 2 * math.pi)
        parks.append((distance * math.cos(angle), distance * math.sin(angle)))
    park_weight = rng.dirichlet(np.full(len(parks), 2.0))

    def site() -> dict:
        if rng.random() < 0.15:
            return _offset(rng, CENTRE, *_in_disc(rng, 25))
        px, py = parks[int(rng.choice(len(parks), p=park_weight))]
        return _offset(rng, CENTRE, px + rng.normal(0, 1.5), py + rng.normal(0, 1.5))

    engineers = []
    for i in range(n_engineers):
        if rng.random() < 0.6:
            px, py = parks[int(rng.integers(len(parks)))]
            home = _offset(rng, CENTRE, px + rng.normal(0, 3), py + rng.normal(0, 3))
        else:
            home = _offset(rng, CENTRE, *_in_disc(rng, 20))
        skills = {_pick(rng, BRANDS): int(rng.integers(2, 6))}
        if rng.random() < 0.25:
            skills.setdefault(_pick(rng, BRANDS), int(rng.integers(1, 5)))
        for _ in range(int(rng.integers(2, 5))):
            skills.setdefault(_pick(rng, REPAIR_SUPPLY), int(rng.integers(1, 6)))
        quality, reluctance = rng.beta(9, 3), rng.beta(1.2, 14)
        fix, declines = {}, {}
        for tag, level in skills.items():
            closed = int(rng.poisson(3 + 5 * level))
            rate = min(0.98, max(0.2, quality + 0.04 * (level - 3)))
            fix[tag] = {"fixed_first_time": int(rng.binomial(closed, rate)), "closed": closed}
            offers = int(rng.poisson(8))
            declines[tag] = {"declines": int(rng.binomial(offers, reluctance)), "offers": offers}
        radius = [None, 10.0, 15.0][int(rng.choice(3, p=[0.5, 0.3, 0.2]))]
        engineers.append(
            {
                "id": f"E{i:04d}",
                "name": f"Engineer {i}",
                "group": f"G{i % 12:02d}",
                "home": home,
                "current": site() if rng.random() < 0.4 else None,
                "service_radius_km": radius,
                "daily_capacity": int(rng.integers(4, 9)),
                "skills": skills,
                "fix_history": fix,
                "decline_history": declines,
            }
        )
    _book(rng, engineers, n_tickets, slot_use)

    device_names = list(DEVICES)
    device_p = np.array([DEVICES[d][1] for d in device_names], dtype=float)
    tickets = []
    for j in range(n_tickets):
        device = device_names[int(rng.choice(len(device_names), p=device_p / device_p.sum()))]
        fault_skill = DEVICES[device][2][int(rng.integers(len(DEVICES[device][2])))]
        phrase = FAULT_PHRASES[fault_skill][int(rng.integers(len(FAULT_PHRASES[fault_skill])))]
        templates = TEMPLATES_ZH if not phrase.isascii() else TEMPLATES_EN
        tickets.append(
            {
                "id": f"T{j:04d}",
                "site": site(),
                "urgency": _pick(rng, URGENCY),
                "device_type": device,
                "description": templates[int(rng.integers(len(templates)))].format(phrase),
            }
        )
    return {
        "version": 1,
        "taxonomy": [*BRANDS, *REPAIR_SUPPLY],
        "keyword_skills": {p: [skill] for skill, phrases in FAULT_PHRASES.items() for p in phrases},
        "device_skills": {device: spec[0] for device, spec in DEVICES.items()},
        "engineers": engineers,
        "tickets": tickets,
    }


def _book(rng: np.random.Generator, engineers: list[dict], n_tickets: int, slot_use: float) -> None:
    """Set booked_today so the fleet has round(n_tickets / slot_use) free slots in total."""
    capacity = np.array([e["daily_capacity"] for e in engineers])
    free = np.zeros_like(capacity)
    target = min(int(round(n_tickets / slot_use)), int(capacity.sum()))
    for _ in range(target):
        room = capacity - free
        e = int(rng.choice(len(engineers), p=room / room.sum()))
        free[e] += 1
    statuses = ["idle", "en_route", "repairing"]
    for e, engineer in enumerate(engineers):
        engineer["booked_today"] = int(capacity[e] - free[e])
        engineer["status"] = "full" if free[e] == 0 else statuses[int(rng.choice(3, p=[0.4, 0.25, 0.35]))]

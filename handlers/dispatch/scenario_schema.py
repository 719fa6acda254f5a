"""Validate a scenario document and turn it into domain objects.

Every problem is reported with the JSON path of the offending value (`engineers[3].home.lat`), so a
person editing a large file by hand finds the spot at once. All problems are collected; the first one
is the exception message. The format is documented in docs/dispatch-scenario.md.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..bounded_json import MAX_DEPTH, structure_depth
from .model import DeclineHistory, Engineer, EngineerStatus, FixHistory, GeoPoint, Ticket, Urgency, is_int, is_number
from .policy import MAX_KM, DispatchPolicy, PolicyError
from .skills import device_key

SCENARIO_VERSION = 1
# Upper bounds for counts: far above any real day or history, low enough that numpy's fixed-width
# integers and float sums stay exact (an integer of 10**30 would otherwise overflow an array).
MAX_DAILY_JOBS = 1000
MAX_HISTORY_COUNT = 10**9
_TOP_FIELDS = {"version", "taxonomy", "policy", "keyword_skills", "device_skills", "team_ftfr", "engineers", "tickets"}
_ENGINEER_FIELDS = {
    "id",
    "name",
    "group",
    "home",
    "current",
    "service_radius_km",
    "status",
    "daily_capacity",
    "booked_today",
    "skills",
    "fix_history",
    "decline_history",
}
_TICKET_FIELDS = {
    "id",
    "site",
    "urgency",
    "device_type",
    "description",
    "keywords",
    "declined_by",
    "accepted_by",
    "offered_to",
}


class ScenarioError(ValueError):
    """A scenario value is wrong. `path` names it in JSON-path style, `problems` lists every one found."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        self.path, self.detail = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(f"{self.path}: {self.detail}{more}")


@dataclass
class Scenario:
    policy: DispatchPolicy
    keyword_skills: dict[str, list[str]]
    device_skills: dict[str, list[str]]
    team_ftfr: dict[str, float]
    engineers: list[Engineer]
    tickets: list[Ticket]
    declined: dict[str, list[str]]
    accepted: dict[str, str]
    offered: dict[str, str]


def key_path(path: str, key: object) -> str:
    """`path.key` for identifier-like keys, `path["key"]` otherwise (spaces, CJK, dots)."""
    if not isinstance(key, str):  # only a hand-built (not JSON) document has such keys
        return f"{path}[{key!r}]"
    if key.isascii() and key.replace("_", "a").isalnum() and not key[:1].isdigit():
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


class _Checker:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def object(self, value: Any, path: str, allowed: set[str] | None = None, required: tuple[str, ...] = ()) -> bool:
        if not isinstance(value, dict):
            self.fail(path, "must be an object")
            return False
        for key in required:
            if key not in value:
                self.fail(key_path(path, key) if path != "$" else key, "is required")
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    self.fail(
                        key_path(path, key) if path != "$" else str(key),
                        f"unknown field (known: {', '.join(sorted(allowed))})",
                    )
        return True

    def text(self, value: Any, path: str, nullable: bool = False, non_empty: bool = True) -> bool:
        if value is None and nullable:
            return True
        if not isinstance(value, str) or (non_empty and not value.strip()):
            self.fail(path, "must be a non-empty string" if non_empty else "must be a string")
            return False
        return True

    def number(self, value: Any, path: str, low: float, high: float, what: str) -> bool:
        if not is_number(value) or not low <= value <= high:
            self.fail(path, number_problem(value, what))
            return False
        return True

    def integer(self, value: Any, path: str, low: int, high: int | None, what: str) -> bool:
        if not is_int(value) or value < low or (high is not None and value > high):
            self.fail(path, number_problem(value, what))
            return False
        return True

    def point(self, value: Any, path: str) -> GeoPoint | None:
        if not self.object(value, path, {"lat", "lon"}, ("lat", "lon")):
            return None
        ok = self.number(value.get("lat"), f"{path}.lat", -90, 90, "a number between -90 and 90 (latitude)")
        ok &= self.number(value.get("lon"), f"{path}.lon", -180, 180, "a number between -180 and 180 (longitude)")
        return GeoPoint(float(value["lat"]), float(value["lon"])) if ok else None

    def text_list(self, value: Any, path: str) -> list[str]:
        if not isinstance(value, list):
            self.fail(path, "must be a list of strings")
            return []
        good = []
        for i, item in enumerate(value):
            if self.text(item, f"{path}[{i}]"):
                good.append(item)
        return good

    def skill(self, tag: Any, path: str, taxonomy: set[str] | None) -> bool:
        if not self.text(tag, path):
            return False
        if taxonomy is not None and tag not in taxonomy:
            self.fail(path, f"unknown skill {tag!r}: not in taxonomy")
            return False
        return True

    def mapping_of_skill_lists(self, value: Any, path: str, taxonomy: set[str] | None) -> dict[str, list[str]]:
        if not self.object(value, path):
            return {}
        result = {}
        for key, skills in value.items():
            if not isinstance(key, str) or not key.strip():
                self.fail(path, "keys must be non-empty strings")
                continue
            tags = self.text_list(skills, key_path(path, key))
            for i, tag in enumerate(tags):
                self.skill(tag, f"{key_path(path, key)}[{i}]", taxonomy)
            result[key] = tags
        return result

    def counts(
        self, value: Any, path: str, taxonomy: set[str] | None, part: str, whole: str, make: Callable[[int, int], Any]
    ) -> dict[str, Any]:
        """{skill: {part: n, whole: m}} with 0 <= n <= m, e.g. fixed_first_time <= closed."""
        if value is None:
            return {}
        if not self.object(value, path):
            return {}
        result = {}
        for tag, record in value.items():
            where = key_path(path, tag)
            self.skill(tag, where, taxonomy)
            if not self.object(record, where, {part, whole}, (part, whole)):
                continue
            what = f"an integer >= 0 and <= {MAX_HISTORY_COUNT}"
            ok = self.integer(record.get(part), f"{where}.{part}", 0, MAX_HISTORY_COUNT, what)
            ok &= self.integer(record.get(whole), f"{where}.{whole}", 0, MAX_HISTORY_COUNT, what)
            if ok and record[part] > record[whole]:
                self.fail(f"{where}.{part}", f"must not exceed {whole} ({record[whole]})")
            elif ok:
                result[tag] = make(record[part], record[whole])
        return result


def number_problem(value: object, what: str) -> str:
    """Why `value` is not `what`, in words: NaN and infinities are named as such (a NaN latitude is
    "not a number", not "out of range"), and a wrong number is quoted."""
    if isinstance(value, float) and math.isnan(value):
        return f"is not a number (NaN); must be {what}"
    if isinstance(value, float) and math.isinf(value):
        return f"is infinite; must be {what}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        shown = value if abs(value) < 1e15 else f"{float(value):.3g}"
        return f"must be {what} (got {shown})"
    return f"must be {what}"


def parse_scenario(data: object) -> Scenario:
    """Validate `data` (a decoded JSON document) completely; raise ScenarioError listing every problem."""
    depth = structure_depth(data)
    if depth > MAX_DEPTH:
        raise ScenarioError([("$", f"nested more than {MAX_DEPTH} levels deep; a scenario needs about 5")])
    c = _Checker()
    if not c.object(data, "$", _TOP_FIELDS, ("keyword_skills", "device_skills", "engineers", "tickets")):
        raise ScenarioError(c.problems)
    assert isinstance(data, dict)  # c.object admitted it
    if "version" in data and not (is_int(data["version"]) and data["version"] == SCENARIO_VERSION):
        c.fail("version", f"must be {SCENARIO_VERSION}")
    taxonomy = None
    if "taxonomy" in data:
        taxonomy = set(c.text_list(data["taxonomy"], "taxonomy"))
    policy = _policy(c, data.get("policy", {}), taxonomy)
    keyword_skills = c.mapping_of_skill_lists(data.get("keyword_skills", {}), "keyword_skills", taxonomy)
    device_skills = c.mapping_of_skill_lists(data.get("device_skills", {}), "device_skills", taxonomy)
    team_ftfr: dict[str, float] = {}
    if "team_ftfr" in data and c.object(data["team_ftfr"], "team_ftfr"):
        for tag, rate in data["team_ftfr"].items():
            if c.skill(tag, key_path("team_ftfr", tag), taxonomy) and c.number(
                rate, key_path("team_ftfr", tag), 0, 1, "a number between 0 and 1"
            ):
                team_ftfr[tag] = float(rate)

    engineers = []
    engineer_ids: set[str] = set()
    # Engineers whose record has an error, by id: a ticket naming one is not "unknown engineer id"
    # (that would hide the real problem, e.g. a NaN latitude, behind a misleading second one).
    invalid_engineers: dict[str, str] = {}
    raw_engineers = data.get("engineers")
    if not isinstance(raw_engineers, list):
        c.fail("engineers", "must be a list")
        raw_engineers = []
    for i, raw in enumerate(raw_engineers):
        engineer = _engineer(c, raw, f"engineers[{i}]", taxonomy)
        if engineer is None:
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                invalid_engineers.setdefault(raw["id"], f"engineers[{i}]")
            continue
        if engineer.id in engineer_ids:
            c.fail(f"engineers[{i}].id", f"duplicate engineer id {engineer.id!r}")
        engineer_ids.add(engineer.id)
        engineers.append(engineer)

    device_keys = {device_key(k) for k in device_skills}
    tickets: list[Ticket] = []
    declined: dict[str, Any] = {}
    accepted: dict[str, Any] = {}
    offered: dict[str, Any] = {}
    ticket_ids: set[str] = set()
    raw_tickets = data.get("tickets")
    if not isinstance(raw_tickets, list):
        c.fail("tickets", "must be a list")
        raw_tickets = []
    for i, raw in enumerate(raw_tickets):
        path = f"tickets[{i}]"
        ticket = _ticket(c, raw, path, device_keys)
        if ticket is None:
            continue
        if ticket.id in ticket_ids:
            c.fail(f"{path}.id", f"duplicate ticket id {ticket.id!r}")
        ticket_ids.add(ticket.id)
        tickets.append(ticket)
        for field_name, target in (("accepted_by", accepted), ("offered_to", offered)):
            engineer_id = raw.get(field_name)
            if engineer_id is None:
                continue
            if not c.text(engineer_id, f"{path}.{field_name}"):
                continue
            if engineer_id not in engineer_ids:
                c.fail(f"{path}.{field_name}", _unknown_engineer(engineer_id, invalid_engineers))
            else:
                target[ticket.id] = engineer_id
        if "declined_by" in raw:
            ids = c.text_list(raw["declined_by"], f"{path}.declined_by")
            for j, engineer_id in enumerate(ids):
                if engineer_id not in engineer_ids:
                    c.fail(f"{path}.declined_by[{j}]", _unknown_engineer(engineer_id, invalid_engineers))
            declined[ticket.id] = ids
            if raw.get("accepted_by") in ids:
                c.fail(f"{path}.accepted_by", "this engineer also declined the ticket")
    if c.problems:
        raise ScenarioError(c.problems)
    return Scenario(policy, keyword_skills, device_skills, team_ftfr, engineers, tickets, declined, accepted, offered)


def _unknown_engineer(engineer_id: str, invalid: dict[str, str]) -> str:
    if engineer_id in invalid:
        return f"engineer {engineer_id!r} is invalid (see the errors at {invalid[engineer_id]})"
    return f"unknown engineer id {engineer_id!r}"


def _policy(c: _Checker, raw: Any, taxonomy: set[str] | None) -> DispatchPolicy:
    if not c.object(raw, "policy"):
        return DispatchPolicy()
    try:
        policy = DispatchPolicy.from_mapping(raw)
    except PolicyError as error:
        for name, message in error.problems:
            c.fail(f"policy.{name}", message)
        return DispatchPolicy()
    except TypeError as error:  # a list field given as a number and the like
        c.fail("policy", str(error))
        return DispatchPolicy()
    for i, tag in enumerate(policy.must_have_skills):
        c.skill(tag, f"policy.must_have_skills[{i}]", taxonomy)
    return policy


def _engineer(c: _Checker, raw: Any, path: str, taxonomy: set[str] | None) -> Engineer | None:
    if not c.object(raw, path, _ENGINEER_FIELDS, ("id", "home", "skills")):
        return None
    before = len(c.problems)
    c.text(raw.get("id"), f"{path}.id")
    c.text(raw.get("name", ""), f"{path}.name", non_empty=False)
    c.text(raw.get("group"), f"{path}.group", nullable=True)
    home = c.point(raw.get("home"), f"{path}.home") if "home" in raw else None
    current = c.point(raw["current"], f"{path}.current") if raw.get("current") is not None else None
    radius = raw.get("service_radius_km")
    if radius is not None and not (is_number(radius) and 0 < radius <= MAX_KM):
        c.fail(f"{path}.service_radius_km", number_problem(radius, f"a number > 0 and <= {MAX_KM:g} km, or null"))
    status = raw.get("status", "idle")
    if not isinstance(status, str) or status not in {s.value for s in EngineerStatus}:
        c.fail(f"{path}.status", f"must be one of {[s.value for s in EngineerStatus]}")
    jobs = f"an integer >= 0 and <= {MAX_DAILY_JOBS}"
    c.integer(raw.get("daily_capacity", 6), f"{path}.daily_capacity", 0, MAX_DAILY_JOBS, jobs)
    c.integer(raw.get("booked_today", 0), f"{path}.booked_today", 0, MAX_DAILY_JOBS, jobs)
    skills = {}
    if "skills" in raw and c.object(raw["skills"], f"{path}.skills"):
        for tag, level in raw["skills"].items():
            where = key_path(f"{path}.skills", tag)
            if c.skill(tag, where, taxonomy) and c.integer(
                level, where, 1, 5, "an integer proficiency level between 1 and 5"
            ):
                skills[tag] = level
    fix = c.counts(raw.get("fix_history"), f"{path}.fix_history", taxonomy, "fixed_first_time", "closed", FixHistory)
    declines = c.counts(
        raw.get("decline_history"), f"{path}.decline_history", taxonomy, "declines", "offers", DeclineHistory
    )
    if len(c.problems) > before or home is None:
        return None
    return Engineer(
        id=raw["id"],
        home=home,
        skills=skills,
        name=raw.get("name", ""),
        group=raw.get("group"),
        current=current,
        service_radius_km=None if radius is None else float(radius),
        status=EngineerStatus(status),
        daily_capacity=raw.get("daily_capacity", 6),
        booked_today=raw.get("booked_today", 0),
        fix_history=fix,
        decline_history=declines,
    )


def _ticket(c: _Checker, raw: Any, path: str, device_keys: set[str]) -> Ticket | None:
    if not c.object(raw, path, _TICKET_FIELDS, ("id", "site")):
        return None
    before = len(c.problems)
    c.text(raw.get("id"), f"{path}.id")
    site = c.point(raw.get("site"), f"{path}.site") if "site" in raw else None
    urgency = raw.get("urgency", "blue")
    if not isinstance(urgency, str) or urgency not in {u.value for u in Urgency}:
        c.fail(f"{path}.urgency", f"must be one of {[u.value for u in Urgency]}")
    device = raw.get("device_type")
    if (
        c.text(device, f"{path}.device_type", nullable=True)
        and device is not None
        and device_key(device) not in device_keys
    ):
        c.fail(f"{path}.device_type", f"unknown device type {device!r}: not a key of device_skills")
    c.text(raw.get("description", ""), f"{path}.description", non_empty=False)
    keywords = c.text_list(raw.get("keywords", []), f"{path}.keywords")
    if len(c.problems) > before or site is None:
        return None
    return Ticket(
        id=raw["id"],
        site=site,
        urgency=Urgency(urgency),
        device_type=device,
        description=raw.get("description", ""),
        keywords=tuple(keywords),
    )

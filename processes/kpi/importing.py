"""History import (brief P3): a plant's past tickets into the KPI tables, all of the file or nothing.

``import_history`` reads the file (``import_formats``), checks it against what is stored, and only when
not one problem was found writes it — in the caller's transaction, so the web request or the CLI
commits all of it or, on any error, none.  A dry run stops before writing and reports the same.

What an import writes, and what it never does:

* one ``ServiceCase`` per ticket, marked ``imported`` with the file's SHA-256, no ticket row and no
  process instance, so no lifecycle starts and nothing is notified; and its ``ServiceEvent`` rows
  (source ``import``).  The measures read these tables only, so imported tickets count exactly like
  live ones.
* a device the file names by serial (or id) that is not on record, with its customer (matched by
  phone, then by name) and site, so the device's later live tickets and its history share one
  ``device_key`` and recurrence sees across both.

Idempotent by ticket id: a stored ticket's milestones are not recorded again, so the same file twice
changes nothing, and an overlapping file adds only its new milestones.  A ticket whose ``created``
facts (time, device, problem code, urgency, deadline) differ from the stored ones, a sheet row that
leaves out a stored milestone, or a ticket id that is a live ticket's number is a conflict: reported,
nothing written.

Speed (100,000 events in well under a minute): the file's devices, customers and stored cases are
read with a few ``IN`` queries; new cases and their events are Core bulk inserts.  New cases are folded
here with the rules of ``recording`` (first times, the last acceptance, rejections before it, first
pass, then ``recording.derive``) and their recurrence links set by :func:`relink` with the rule of the
flush hooks in ``models``, one statement per 500 devices; milestones added to a stored case go through
``recording.record`` itself, the one way events enter.  ``tests/kpi/test_import_fold.py`` holds the
bulk path to what ``recording`` and the hooks give, column by column.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from engine.db import table_of

from ..customers.models import Customer, Site
from ..devices.models import Device
from ..tickets.models import Ticket
from . import import_formats
from .import_formats import History, Opening, Parsed
from .import_values import Problem
from .models import ServiceCase, ServiceEvent
from .recording import derive, record

SOURCE = "import"
CHUNK = 500  # keys per IN (...) query: well under every backend's bound-parameter limit
# Whose devices an import creates when the file names no customer and no phone.
UNKNOWN_CUSTOMER = "未知客户 / Unknown customer (history import)"
_FIRST_TIMES = {
    "on_site": "first_on_site_at",
    "acceptance_requested": "first_acceptance_requested_at",
}
T = TypeVar("T")


@dataclass
class ImportReport:
    """What an import found and did; ``problems`` empty means it was (or, dry, would be) written."""

    file: str
    digest: str
    dry_run: bool
    records: int = 0
    tickets: int = 0
    events: int = 0
    new_tickets: int = 0
    extended_tickets: int = 0
    unchanged_tickets: int = 0
    new_events: int = 0
    new_devices: int = 0
    new_customers: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sha256": self.digest,
            "dry_run": self.dry_run,
            "written": self.written,
            "records": self.records,
            "tickets": self.tickets,
            "events": self.events,
            "new_tickets": self.new_tickets,
            "extended_tickets": self.extended_tickets,
            "unchanged_tickets": self.unchanged_tickets,
            "new_events": self.new_events,
            "new_devices": self.new_devices,
            "new_customers": self.new_customers,
            "ignored_columns": self.ignored_columns,
            "problem_count": self.problem_count,
            "problems": [p.as_dict() for p in self.problems],
        }


def import_history(
    session: Session, name: str, content: bytes, *, timezone: str, now: datetime, dry_run: bool = False
) -> ImportReport:
    """Import the history file ``name`` (its bytes ``content``) unless anything in it is wrong."""
    parsed = import_formats.read(name, content, timezone, now)
    report = ImportReport(parsed.file, hashlib.sha256(content).hexdigest(), dry_run)
    report.records, report.tickets, report.events = parsed.records, len(parsed.histories), parsed.events
    report.ignored_columns = parsed.ignored_columns
    # The database checks run even when the file has problems already, so one report lists them all.
    plan = _plan(session, parsed, now, ZoneInfo(timezone))
    if parsed.problem_count == 0:
        report.new_tickets, report.new_events = len(plan.new), plan.new_events
        report.extended_tickets, report.unchanged_tickets = len(plan.additions), plan.unchanged
        report.new_devices, report.new_customers = len(plan.owners.new_devices), plan.owners.new_customers
        if parsed.problem_count == 0 and not dry_run:
            _write(session, plan, report.digest)
            report.written = True
    report.problems, report.problem_count = parsed.problems, parsed.problem_count
    return report


# -- planning: everything checked against the database before one row is written -----------------------


@dataclass
class _Plan:
    new: list[History]
    additions: list[tuple[ServiceCase, list[import_formats.Event]]]
    unchanged: int
    owners: _Owners

    @property
    def new_events(self) -> int:
        return sum(1 + len(h.events) for h in self.new) + sum(len(events) for _, events in self.additions)


def _plan(session: Session, parsed: Parsed, now: datetime, zone: ZoneInfo) -> _Plan:
    histories = list(parsed.histories.values())
    keys = [h.key for h in histories]
    stored = {
        case.key: case
        for chunk in _chunks(keys)
        for case in session.scalars(select(ServiceCase).where(ServiceCase.key.in_(chunk)))
    }
    live = {
        n for chunk in _chunks(keys) for n in session.scalars(select(Ticket.number).where(Ticket.number.in_(chunk)))
    }
    moments = _stored_moments(session, [c.id for c in stored.values()])
    openings = [h.opening for h in histories if h.opening is not None]
    owners = _Owners(session, openings, [h.opening for h in histories if h.opening is not None and h.key not in stored])
    new: list[History] = []
    additions: list[tuple[ServiceCase, list[import_formats.Event]]] = []
    unchanged = 0
    for history in histories:
        case = stored.get(history.key)
        if history.key in live or (case is not None and not case.imported):
            parsed.problem(history.place.line, history.place.column, "live_ticket", ticket=history.key)
            continue
        if case is None:
            if history.opening is None:
                if history.key in parsed.tainted:  # its created line was refused, and is reported
                    continue
                first = min(history.events, key=lambda e: e.place.line or 0)
                parsed.problem(first.place.line, "ticket", "no_created", event=first.kind, ticket=history.key)
            else:
                new.append(history)
            continue
        kept = moments.get(case.id, set())
        _against_stored(parsed, history, case, owners, kept, now, zone)
        fresh = [e for e in history.events if (e.kind, e.at) not in kept]
        if fresh:
            additions.append((case, fresh))
        else:
            unchanged += 1
    return _Plan(new, additions, unchanged, owners)


def _against_stored(
    parsed: Parsed,
    history: History,
    case: ServiceCase,
    owners: _Owners,
    moments: set[tuple[str, datetime]],
    now: datetime,
    zone: ZoneInfo,
) -> None:
    """A stored imported ticket may gain milestones, never change: its ``created`` facts must agree,
    and a sheet row (the whole ticket) must hold every milestone stored for it."""
    opening = history.opening
    if opening is not None:
        device = owners.find(opening.device)
        given = {**opening.facts(), "device": str(device.id) if device is not None else None}
        kept = {
            "created": case.created_at,
            "device": case.device_key,
            "problem": case.problem_code,
            "urgency": case.urgency,
            "response_due": case.response_due_at,
        }
        for name, value in kept.items():
            if given[name] != value:
                parsed.problem(
                    opening.place.line,
                    opening.columns.get(name, name),
                    "conflicts_with_stored",
                    field=name,
                    stored=_shown(value, zone),
                    given=_shown(opening.facts()[name], zone),
                )
    if history.whole:
        given_moments = {(e.kind, e.at) for e in history.events}
        for kind, at in sorted(moments - given_moments, key=lambda m: m[1]):
            if kind != "created":
                parsed.problem(
                    history.place.line, history.place.column, "stored_event_missing", event=kind, at=_shown(at, zone)
                )
    if opening is None:
        stored_opening = Opening(
            case.created_at,
            case.device_key,
            case.problem_code,
            case.urgency,
            case.response_due_at or case.created_at,
            {},
            {},
            history.place,
        )
        import_formats.check(parsed, history, stored_opening, now)


def _stored_moments(session: Session, case_ids: list[int]) -> dict[int, set[tuple[str, datetime]]]:
    found: dict[int, set[tuple[str, datetime]]] = {}
    for ids in _chunks(case_ids):
        query = select(ServiceEvent.case_id, ServiceEvent.event, ServiceEvent.at).where(ServiceEvent.case_id.in_(ids))
        for case_id, event, at in session.execute(query):
            found.setdefault(case_id, set()).add((event, at))
    return found


class _Owners:
    """The devices the file names, found by serial (then id) or to be created, with their customers
    (matched by phone digits, then by exact name, else new) and sites."""

    def __init__(self, session: Session, openings: Sequence[Opening], new_openings: Sequence[Opening]) -> None:
        self.session = session
        self.created: dict[str, Device] = {}
        wanted = {o.device for o in openings}
        self.by_serial: dict[str, Device] = {}
        for serials in _chunks(sorted(wanted)):
            found = session.scalars(select(Device).where(Device.serial.in_(serials)))
            self.by_serial.update((d.serial, d) for d in found)
        ids = sorted(int(text) for text in wanted - set(self.by_serial) if text.isdigit() and len(text) < 10)
        self.by_id: dict[str, Device] = {}
        for chunk in _chunks(ids):
            self.by_id.update((str(d.id), d) for d in session.scalars(select(Device).where(Device.id.in_(chunk))))
        # The first new ticket naming an unknown device describes it (model, type, owner, site).
        self.new_devices: dict[str, Opening] = {}
        for opening in new_openings:
            if self.find(opening.device) is None:
                self.new_devices.setdefault(opening.device, opening)
        self.customers = self._match_customers()

    @property
    def new_customers(self) -> int:
        return sum(1 for customer in self.customers.values() if customer is None)

    def find(self, text: str) -> Device | None:
        return self.by_serial.get(text) or self.by_id.get(text) or self.created.get(text)

    def create(self) -> None:
        """Add the unknown devices (and customers, sites) and flush once, so they have ids."""
        if not self.new_devices:
            return
        customers = {key: found or self._new_customer(key) for key, found in self.customers.items()}
        for serial, opening in self.new_devices.items():
            owner = opening.owner
            customer = customers[_customer_key(owner)]
            site = self._site(customer, owner)
            device = Device(
                customer=customer,
                site=site,
                model=str(owner.get("model") or ""),
                serial=serial,
                device_type=str(owner.get("device_type") or ""),
                qr_code=f"import:{serial}",
            )
            self.session.add(device)
            self.created[serial] = device
        self.session.flush()

    def _match_customers(self) -> dict[str, Customer | None]:
        wanted = self._owners = {_customer_key(o.owner): o.owner for o in self.new_devices.values()}
        if not wanted:
            return {}
        by_phone: dict[str, Customer] = {}
        by_name: dict[str, Customer] = {}
        for customer in self.session.scalars(select(Customer).order_by(Customer.id)):
            if _digits(customer.phone):
                by_phone.setdefault(_digits(customer.phone), customer)
            by_name.setdefault(customer.name, customer)
        return {
            key: (by_phone.get(_digits(str(owner.get("phone") or ""))) if owner.get("phone") else None)
            or by_name.get(str(owner.get("customer") or UNKNOWN_CUSTOMER))
            for key, owner in wanted.items()
        }

    def _new_customer(self, key: str) -> Customer:
        owner = self._owners[key]
        name = str(owner.get("customer") or "")
        customer = Customer(
            name=name or UNKNOWN_CUSTOMER,
            contact_name=name,
            phone=str(owner.get("phone") or ""),
            service_level="standard",
            locale="zh_Hans",
        )
        self.session.add(customer)
        return customer

    def _site(self, customer: Customer, owner: dict[str, Any]) -> Site:
        """The customer's site of that name (or its first, when the file names none), else a new one.
        A new site without coordinates in the file is put at 0, 0 until someone corrects it."""
        name = str(owner.get("site") or "")
        site = next((s for s in customer.sites if s.name == name or not name), None)
        if site is None:
            site = Site(
                customer=customer,
                name=name or customer.name,
                address=str(owner.get("address") or ""),
                region=str(owner.get("region") or ""),
                lat=float(owner.get("lat") or 0.0),
                lon=float(owner.get("lon") or 0.0),
            )
            self.session.add(site)
        return site


def _customer_key(owner: dict[str, Any]) -> str:
    phone = _digits(str(owner.get("phone") or ""))
    return f"phone:{phone}" if phone else f"name:{owner.get('customer') or UNKNOWN_CUSTOMER}"


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


# -- writing ---------------------------------------------------------------------------------------------


def _write(session: Session, plan: _Plan, digest: str) -> None:
    plan.owners.create()
    cases = [_new_case(history, plan.owners, digest) for history in plan.new]
    table = table_of(ServiceCase)
    columns = [c.key for c in table.columns if c.key != "id"]
    # Core inserts, a few thousand rows a statement: no unit of work, no per-row hooks (the recurrence
    # links are set for all new cases at once below).  The ids are read back by key afterwards: on
    # PostgreSQL that is several times faster than RETURNING over batched VALUES.
    for chunk in _chunks(cases, 2000):
        session.execute(insert(table), [{name: getattr(case, name) for name in columns} for case in chunk])
    ids: dict[str, int] = {}
    for keys in _chunks([case.key for case in cases]):
        ids.update(
            (key, id_) for id_, key in session.execute(select(table.c.id, table.c.key).where(table.c.key.in_(keys)))
        )
    events = [row for history in plan.new for row in _event_rows(ids[history.key], history)]
    for chunk in _chunks(events, 5000):
        session.execute(insert(table_of(ServiceEvent)), chunk)
    relink(session, {case.device_key for case in cases})
    for case, additions in plan.additions:
        for event in sorted(additions, key=lambda e: e.at):
            record(session, case, event.kind, event.at.astimezone(UTC), source=SOURCE, data=_data(event))


def relink(session: Session, device_keys: set[str]) -> None:
    """``next_problem_at`` of every case on these devices, recomputed in one statement per 500 devices.

    The rule of the flush hooks in ``models`` (which the Core inserts above skip), set-based: the first
    creation of another case with the same device key and problem code strictly after the case's (last)
    acceptance; none for a case not accepted.  Recomputing whole groups covers both directions: a new
    case may recur on an earlier one, and may itself have recurred.
    """
    table = table_of(ServiceCase)
    other = table.alias("other")
    following = (
        select(func.min(other.c.created_at))
        .where(
            other.c.device_key == table.c.device_key,
            other.c.problem_code == table.c.problem_code,
            other.c.created_at > table.c.accepted_at,
            other.c.id != table.c.id,
        )
        .scalar_subquery()
    )
    for chunk in _chunks(sorted(device_keys)):
        session.execute(
            update(table)
            .where(table.c.device_key.in_(chunk), table.c.accepted_at.is_not(None))
            .values(next_problem_at=following)
        )


def _new_case(history: History, owners: _Owners, digest: str) -> ServiceCase:
    opening = history.opening
    assert opening is not None
    device = owners.find(opening.device)
    assert device is not None
    case = ServiceCase(
        key=history.key,
        ticket_id=None,
        imported=True,
        import_source=digest,
        device_id=device.id,
        device_key=str(device.id),
        device_model=device.model,
        device_type=device.device_type,
        problem_code=opening.problem,
        urgency=opening.urgency,
        site_id=device.site_id,
        region=device.site.region,
        engineer_group="",
        attributes=dict(opening.attributes),
        created_at=opening.at.astimezone(UTC),
        response_due_at=opening.response_due.astimezone(UTC),
        rejections=0,
        escalations=0,
        cross_region=False,
        address_error=False,
        sla_met=False,
    )
    fold(case, [(e.kind, e.at.astimezone(UTC)) for e in history.events])
    return case


def fold(case: ServiceCase, events: Iterable[tuple[str, datetime]]) -> None:
    """Set a new case's columns from all its milestones at once, as ``recording.record`` would one by
    one: the earliest on-site and acceptance request, the last acceptance, the rejections before it,
    first pass (the first verdict was an acceptance), then the derived columns."""
    events = list(events)
    for kind, column in _FIRST_TIMES.items():
        times = [at for k, at in events if k == kind]
        setattr(case, column, min(times) if times else None)
    accepted = [at for k, at in events if k == "accepted"]
    rejected = [at for k, at in events if k == "customer_rejected"]
    case.accepted_at = max(accepted) if accepted else None
    last = case.accepted_at
    case.rejections = sum(1 for at in rejected if last is None or at < last)
    case.first_pass = None if not accepted else (not rejected or min(accepted) < min(rejected))
    derive(case)


def _event_rows(case_id: int, history: History) -> Iterator[dict[str, Any]]:
    opening = history.opening
    assert opening is not None
    yield {
        "case_id": case_id,
        "event": "created",
        "at": opening.at.astimezone(UTC),
        "source": SOURCE,
        "data": {"line": opening.place.line},
    }
    for event in history.events:
        yield {
            "case_id": case_id,
            "event": event.kind,
            "at": event.at.astimezone(UTC),
            "source": SOURCE,
            "data": _data(event),
        }


def _data(event: import_formats.Event) -> dict[str, Any]:
    return {"line": event.place.line, **event.data}


def _shown(value: Any, zone: ZoneInfo) -> str:
    """A value as a problem quotes it: instants on the plant's clock."""
    return value.astimezone(zone).isoformat() if isinstance(value, datetime) else str(value)


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

"""CSV import of customers (with their sites) and of devices, all or nothing (issue 10, admins).

A plant starts from the spreadsheets it already has.  Every row is checked with the same rules as the
admin forms (``service``) before anything is written; one bad cell refuses the whole file and the
answer lists every problem as (row, column, what is wrong), the row numbered as a spreadsheet shows it
(the header is row 1).  Nothing is half-imported: the rows are written only when all of them passed,
in the caller's one transaction.

customers.csv — one row per site; rows with the same phone are one customer with several sites:
    name, contact_name, phone, email, service_level, locale, site, address, region, lat, lon
devices.csv — each device at a site of a customer already in the directory (by the customer's phone):
    customer_phone, site, model, serial, device_type, qr_code
Excel's "CSV UTF-8" and the older GB18030 (Chinese Windows) encodings are both read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..customers.models import Customer, Site
from ..devices.models import Device
from ..errors import DomainError
from ..validation import Checker, fold
from .service import check_customer, check_device, check_site, digits

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
CUSTOMER_COLUMNS = (
    "name",
    "contact_name",
    "phone",
    "email",
    "service_level",
    "locale",
    "site",
    "address",
    "region",
    "lat",
    "lon",
)
CUSTOMER_REQUIRED = ("name", "contact_name", "phone", "site", "address", "lat", "lon")
DEVICE_COLUMNS = ("customer_phone", "site", "model", "serial", "device_type", "qr_code")
DEVICE_REQUIRED = ("customer_phone", "site", "model", "serial", "device_type")
KINDS = ("customers", "devices")


@dataclass(frozen=True)
class RowProblem:
    """One bad cell: row 0 is the file itself (encoding, header)."""

    row: int
    column: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


class ImportRefused(DomainError):
    """The file was refused; ``rows`` says where and why.  Nothing was written."""

    status = 422

    def __init__(self, rows: list[RowProblem]) -> None:
        super().__init__("csv_refused", count=len(rows))
        self.rows = rows


@dataclass
class ImportResult:
    customers: int = 0
    sites: int = 0
    devices: int = 0


def read_rows(data: bytes, columns: tuple[str, ...], required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """The file's data rows as (row number, {column: text}); refuses a file that cannot be read at all."""
    if not data.strip():
        raise ImportRefused([RowProblem(0, "", "csv_empty")])
    if len(data) > MAX_BYTES:
        raise ImportRefused([RowProblem(0, "", "csv_too_large", {"limit": MAX_BYTES // 1024 // 1024})])
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly anything; kept for a clear answer if it ever does not
        raise ImportRefused([RowProblem(0, "", "csv_encoding")])
    if "\x00" in text:
        raise ImportRefused([RowProblem(0, "", "csv_encoding")])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        raise ImportRefused([RowProblem(0, "", "csv_empty")]) from None
    missing = [c for c in required if c not in header]
    unknown = [h for h in header if h and h not in columns]
    problems = [RowProblem(1, c, "csv_missing_column", {"allowed": list(columns)}) for c in missing]
    problems += [RowProblem(1, h, "csv_unknown_column", {"allowed": list(columns)}) for h in unknown]
    if problems:
        raise ImportRefused(problems)
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for cells in reader:
            number = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportRefused([RowProblem(number, "", "csv_too_many_rows", {"limit": MAX_ROWS})])
            if len(cells) > len(header):
                raise ImportRefused([RowProblem(number, "", "csv_extra_cells", {"expected": len(header)})])
            rows.append((number, {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header) if h}))
    except csv.Error as err:
        raise ImportRefused([RowProblem(reader.line_num, "", "csv_syntax", {"detail": str(err)})]) from err
    if not rows:
        raise ImportRefused([RowProblem(0, "", "csv_empty")])
    return rows


def _row_problems(number: int, check: Checker, rename: dict[str, str]) -> list[RowProblem]:
    return [RowProblem(number, rename.get(p.field, p.field), p.code, p.params) for p in check.problems]


def import_customers(session: Session, data: bytes) -> ImportResult:
    rows = read_rows(data, CUSTOMER_COLUMNS, CUSTOMER_REQUIRED)
    problems: list[RowProblem] = []
    planned: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}  # phone digits → customer, sites
    names: dict[str, str] = {}  # folded name → phone digits, within the file
    for number, row in rows:
        phone_key = digits(row.get("phone", ""))
        if phone_key and phone_key in planned:  # another site of a customer earlier in the file
            customer, sites = planned[phone_key]
            if fold(row.get("name", "")) != fold(customer["name"]):
                problems.append(RowProblem(number, "name", "csv_same_phone_other_name", {"name": customer["name"]}))
            check = Checker({**row, "name": row.get("site", "")})
            site = check_site(check)
            problems += _row_problems(number, check, {"name": "site"})
            if any(fold(s["name"]) == fold(site["name"]) for s in sites) and site["name"]:
                problems.append(RowProblem(number, "site", "already_exists", {"value": site["name"]}))
            sites.append(site)
            continue
        check = Checker(row)
        customer = check_customer(check, session)
        if customer["name"] and fold(customer["name"]) in names:
            check.problem("name", "already_exists", value=customer["name"])
        site_check = Checker({**row, "name": row.get("site", "")})
        site = check_site(site_check)
        problems += _row_problems(number, check, {}) + _row_problems(number, site_check, {"name": "site"})
        if phone_key:
            planned[phone_key] = (customer, [site])
            names[fold(customer["name"])] = phone_key
    if problems:
        raise ImportRefused(problems)
    result = ImportResult()
    for customer_fields, sites in planned.values():
        customer = Customer(**customer_fields)
        session.add(customer)
        session.flush()
        for site_fields in sites:
            session.add(Site(customer_id=customer.id, **site_fields))
            result.sites += 1
        result.customers += 1
    session.flush()
    return result


def import_devices(session: Session, data: bytes) -> ImportResult:
    rows = read_rows(data, DEVICE_COLUMNS, DEVICE_REQUIRED)
    customers = {digits(c.phone): c for c in session.scalars(select(Customer))}
    problems: list[RowProblem] = []
    planned: list[dict[str, Any]] = []
    taken: dict[str, set[str]] = {"serial": set(), "qr_code": set()}
    for number, row in rows:
        check = Checker(row)
        site = None
        customer = customers.get(digits(row.get("customer_phone", "")))
        if not row.get("customer_phone"):
            check.problem("customer_phone", "required")
        elif customer is None:
            check.problem("customer_phone", "csv_unknown_customer", phone=row["customer_phone"])
        elif not row.get("site"):
            check.problem("site", "required")
        else:
            site = next((s for s in customer.sites if fold(s.name) == fold(row["site"])), None)
            if site is None:
                names = [s.name for s in customer.sites]
                check.problem("site", "csv_unknown_site", site=row["site"], customer=customer.name, sites=names)
        device = check_device(check, session, site, taken=taken)
        problems += _row_problems(number, check, {})
        for name in ("serial", "qr_code"):
            if device.get(name):
                taken[name].add(fold(device[name]))
        planned.append(device)
    if problems:
        raise ImportRefused(problems)
    for device in planned:
        session.add(Device(**device))
    session.flush()
    return ImportResult(devices=len(planned))


def import_csv(session: Session, kind: str, data: bytes) -> ImportResult:
    if kind == "customers":
        return import_customers(session, data)
    if kind == "devices":
        return import_devices(session, data)
    raise ImportRefused([RowProblem(0, "kind", "choice")])

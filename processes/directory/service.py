"""Adding and editing customers, sites and devices from the admin screens (issue 10, admins).

Every field is checked before anything is written (a :class:`Checker` collects all problems), so a
refused form leaves the directory as it was.  The checks are the ones the CSV import runs per row
(``csv_import``): a customer's phone and a device's serial and QR value are unique, a device stands at a
site of its own customer, and its type is one the dispatcher knows (device types → skills).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..customers.models import Customer, Site
from ..devices.models import Device
from ..dispatch.models import DeviceTypeSkills
from ..errors import NotFound
from ..validation import Checker, fold

SERVICE_LEVELS = ("standard", "silver", "gold")
CUSTOMER_LOCALES = ("zh_Hans", "en")
PHONE_PATTERN = r"\+?[0-9][0-9 -]*"
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"
CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._/-]*"  # a serial or QR value as printed on a plate
QR_PREFIX = "QR-"


def digits(phone: str) -> str:
    """A phone as its digits: '139 0574-1234' and '13905741234' are one number."""
    return "".join(c for c in phone if c.isdigit())


# -- customers ------------------------------------------------------------------------------------------


def customer_values(row: Customer) -> dict[str, Any]:
    return {
        "name": row.name,
        "contact_name": row.contact_name,
        "phone": row.phone,
        "email": row.email or "",
        "service_level": row.service_level,
        "locale": row.locale,
    }


def check_customer(check: Checker, session: Session, customer_id: int | None = None) -> dict[str, Any]:
    """The customer's fields, with a same-phone or same-name customer refused as a duplicate."""
    values = {
        "name": check.text("name", max_length=200),
        "contact_name": check.text("contact_name", max_length=120),
        "phone": check.text("phone", max_length=30, pattern=PHONE_PATTERN, pattern_code="phone_format"),
        "email": check.text("email", required=False, max_length=120, pattern=EMAIL_PATTERN, pattern_code="email_format")
        or None,
        "service_level": check.choice("service_level", SERVICE_LEVELS, required=False) or "standard",
        "locale": check.choice("locale", CUSTOMER_LOCALES, required=False) or "zh_Hans",
    }
    others = select(Customer.name, Customer.phone)
    if customer_id is not None:
        others = others.where(Customer.id != customer_id)
    for name, phone in session.execute(others):
        if values["phone"] and not check.has_problem("phone") and digits(phone) == digits(values["phone"]):
            check.problem("phone", "already_exists", value=phone)
        if values["name"] and not check.has_problem("name") and fold(name) == fold(values["name"]):
            check.problem("name", "already_exists", value=name)
    return values


def save_customer(session: Session, values: Mapping[str, Any], customer_id: int | None = None) -> Customer:
    row = _get(session, Customer, customer_id) if customer_id is not None else None
    check = Checker(values)
    fields = check_customer(check, session, customer_id)
    check.done()
    if row is None:
        row = Customer(**fields)
        session.add(row)
    else:
        for name, value in fields.items():
            setattr(row, name, value)
    session.flush()
    return row


# -- sites ----------------------------------------------------------------------------------------------


def site_values(row: Site) -> dict[str, Any]:
    return {"name": row.name, "address": row.address, "region": row.region, "lat": row.lat, "lon": row.lon}


def check_site(check: Checker) -> dict[str, Any]:
    return {
        "name": check.text("name", max_length=200),
        "address": check.text("address", max_length=400),
        "region": check.text("region", required=False, max_length=60),
        "lat": check.number("lat", minimum=-90, maximum=90),
        "lon": check.number("lon", minimum=-180, maximum=180),
    }


def save_site(session: Session, customer_id: int, values: Mapping[str, Any], site_id: int | None = None) -> Site:
    customer = _get(session, Customer, customer_id)
    row = _get(session, Site, site_id) if site_id is not None else None
    if row is not None and row.customer_id != customer.id:
        raise NotFound("not_found")
    check = Checker(values)
    fields = check_site(check)
    check.done()
    if row is None:
        row = Site(customer_id=customer.id, **fields)
        session.add(row)
    else:
        for name, value in fields.items():
            setattr(row, name, value)
    session.flush()
    return row


# -- devices --------------------------------------------------------------------------------------------


def device_values(row: Device) -> dict[str, Any]:
    return {
        "customer_id": row.customer_id,
        "site_id": row.site_id,
        "model": row.model,
        "serial": row.serial,
        "device_type": row.device_type,
        "qr_code": row.qr_code,
    }


def device_types(session: Session) -> list[str]:
    return list(session.scalars(select(DeviceTypeSkills.device_type).order_by(DeviceTypeSkills.device_type)))


def check_device(
    check: Checker,
    session: Session,
    site: Site | None,
    device_id: int | None = None,
    taken: Mapping[str, set[str]] | None = None,
) -> dict[str, Any]:
    """A device's own fields; ``site`` is where it stands (its customer is the site's).  ``taken`` holds
    serials and QR values claimed earlier in the same import, folded."""
    values = {
        "model": check.text("model", max_length=120),
        "serial": check.text("serial", max_length=120, pattern=CODE_PATTERN),
        "device_type": check.choice("device_type", device_types(session)),
        "qr_code": check.text("qr_code", required=False, max_length=120, pattern=CODE_PATTERN),
    }
    if not values["qr_code"] and values["serial"]:
        values["qr_code"] = QR_PREFIX + values["serial"]  # the plant's plates: QR-<serial>
    for name in ("serial", "qr_code"):
        value = values[name]
        if not value or check.has_problem(name):
            continue
        column = getattr(Device, name)
        query = select(Device.id).where(func.lower(column) == value.lower())
        if device_id is not None:
            query = query.where(Device.id != device_id)
        if session.scalar(query.limit(1)) is not None or fold(value) in (taken or {}).get(name, set()):
            check.problem(name, "already_exists", value=value)
    if site is not None:
        values["site_id"], values["customer_id"] = site.id, site.customer_id
    return values


def save_device(session: Session, values: Mapping[str, Any], device_id: int | None = None) -> Device:
    row = _get(session, Device, device_id) if device_id is not None else None
    check = Checker(values)
    site = None
    site_id = check.integer("site_id", minimum=1)
    if site_id is not None:
        site = session.get(Site, site_id)
        if site is None:
            check.problem("site_id", "choice")
    fields = check_device(check, session, site, device_id)
    check.done()
    if row is None:
        row = Device(**fields)
        session.add(row)
    else:
        for name, value in fields.items():
            setattr(row, name, value)
    session.flush()
    return row


def _get(session: Session, model: Any, key: int | None) -> Any:
    row = session.get(model, key) if key is not None else None
    if row is None:
        raise NotFound("not_found")
    return row

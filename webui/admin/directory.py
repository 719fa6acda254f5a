"""Admin screens for the directory (issue 10, admins): customers, their sites, devices with printable QR
labels, and the CSV import.  Thin routes over ``processes.directory``; a refused form is shown again
with every problem next to its field (422) and the request's writes undone."""

from __future__ import annotations

from typing import Any

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from processes.customers.models import Customer, Site
from processes.devices.models import Device
from processes.directory import csv_import, labels, service
from processes.dispatch.models import DeviceTypeSkills
from processes.errors import DomainError

from ..context import db
from ..errors import refusal, refused
from ..i18n import is_zh
from ..messages import message

CUSTOMER_FIELDS = ("name", "contact_name", "phone", "email", "service_level", "locale")
SITE_FIELDS = ("name", "address", "region", "lat", "lon")
DEVICE_FIELDS = ("site_id", "model", "serial", "device_type", "qr_code")
PAGE_SIZE = 100


def _posted(names: tuple[str, ...]) -> dict[str, str]:
    return {name: request.form.get(name, "") for name in names}


def type_labels(session: Session) -> dict[str, str]:
    """Device types by their label in the reader's language, never the code alone."""
    rows = session.scalars(select(DeviceTypeSkills).order_by(DeviceTypeSkills.device_type))
    return {r.device_type: (r.name_zh if is_zh() else r.name_en) or r.device_type for r in rows}


def service_level_label(code: str) -> str:
    return {"standard": gettext("Standard"), "silver": gettext("Silver"), "gold": gettext("Gold")}.get(code, code)


# -- customers ------------------------------------------------------------------------------------------


def customers() -> Any:
    q = request.args.get("q", "").strip()
    query = select(Customer).options(selectinload(Customer.sites)).order_by(Customer.name)
    if q:
        like = f"%{q}%"
        query = query.where(
            or_(Customer.name.ilike(like), Customer.phone.ilike(like), Customer.contact_name.ilike(like))
        )
    rows = list(db().scalars(query.limit(PAGE_SIZE)))
    counts = dict(db().execute(select(Device.customer_id, func.count()).group_by(Device.customer_id)).all())
    return render_template("admin/customers.html", customers=rows, q=q, device_counts=counts, level=service_level_label)


def _customer_form(
    values: dict[str, Any],
    row: Customer | None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    devices = (
        list(db().scalars(select(Device).where(Device.customer_id == row.id).order_by(Device.serial))) if row else []
    )
    return render_template(
        "admin/customer_form.html",
        values=values,
        customer=row,
        devices=devices,
        levels=[(c, service_level_label(c)) for c in service.SERVICE_LEVELS],
        type_label=type_labels(db()),
        error=error,
        errors=errors or {},
    ), status


def new_customer() -> Any:
    if request.method == "POST":
        values = _posted(CUSTOMER_FIELDS)
        try:
            row = service.save_customer(db(), values)
        except DomainError as err:
            error, errors = refused(err)
            return _customer_form(values, None, error, errors, 422)
        return redirect(url_for("admin.edit_customer", customer_id=row.id), code=303)
    return _customer_form({"service_level": "standard", "locale": "zh_Hans"}, None)


def edit_customer(customer_id: int) -> Any:
    row = db().get(Customer, customer_id)
    if row is None:
        abort(404)
    if request.method == "POST":
        values = _posted(CUSTOMER_FIELDS)
        try:
            service.save_customer(db(), values, customer_id)
        except DomainError as err:
            error, errors = refused(err)
            return _customer_form(values, db().get(Customer, customer_id), error, errors, 422)
        return redirect(url_for("admin.customers"), code=303)
    return _customer_form(service.customer_values(row), row)


# -- sites ----------------------------------------------------------------------------------------------


def _site_form(
    customer: Customer,
    values: dict[str, Any],
    site: Site | None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    return render_template(
        "admin/site_form.html", customer=customer, site=site, values=values, error=error, errors=errors or {}
    ), status


def new_site(customer_id: int) -> Any:
    customer = db().get(Customer, customer_id)
    if customer is None:
        abort(404)
    if request.method == "POST":
        values = _posted(SITE_FIELDS)
        try:
            service.save_site(db(), customer_id, values)
        except DomainError as err:
            error, errors = refused(err)
            return _site_form(db().get(Customer, customer_id), values, None, error, errors, 422)
        return redirect(url_for("admin.edit_customer", customer_id=customer_id), code=303)
    return _site_form(customer, {}, None)


def edit_site(site_id: int) -> Any:
    site = db().get(Site, site_id)
    if site is None:
        abort(404)
    customer_id = site.customer_id
    if request.method == "POST":
        values = _posted(SITE_FIELDS)
        try:
            service.save_site(db(), customer_id, values, site_id)
        except DomainError as err:
            error, errors = refused(err)
            return _site_form(db().get(Customer, customer_id), values, db().get(Site, site_id), error, errors, 422)
        return redirect(url_for("admin.edit_customer", customer_id=customer_id), code=303)
    return _site_form(site.customer, service.site_values(site), site)


# -- devices --------------------------------------------------------------------------------------------


def _device_query(customer_id: int | None) -> Any:
    query = select(Device).options(selectinload(Device.customer), selectinload(Device.site))
    if customer_id:
        query = query.where(Device.customer_id == customer_id)
    return query.order_by(Device.customer_id, Device.serial)


def devices() -> Any:
    customer_id = request.args.get("customer", type=int)
    rows = list(db().scalars(_device_query(customer_id).limit(PAGE_SIZE * 5)))
    return render_template("admin/devices.html", devices=rows, customer_id=customer_id, type_label=type_labels(db()))


def _device_form(
    values: dict[str, Any],
    device: Device | None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    session = db()
    owners = list(session.scalars(select(Customer).options(selectinload(Customer.sites)).order_by(Customer.name)))
    return render_template(
        "admin/device_form.html",
        values=values,
        device=device,
        owners=owners,
        types=list(type_labels(session).items()),
        error=error,
        errors=errors or {},
    ), status


def new_device() -> Any:
    if request.method == "POST":
        values = _posted(DEVICE_FIELDS)
        try:
            row = service.save_device(db(), values)
        except DomainError as err:
            error, errors = refused(err)
            return _device_form(values, None, error, errors, 422)
        return redirect(url_for("admin.devices", customer=row.customer_id), code=303)
    site = request.args.get("site", "")
    return _device_form({"site_id": site}, None)


def edit_device(device_id: int) -> Any:
    row = db().get(Device, device_id)
    if row is None:
        abort(404)
    if request.method == "POST":
        values = _posted(DEVICE_FIELDS)
        try:
            row = service.save_device(db(), values, device_id)
        except DomainError as err:
            error, errors = refused(err)
            return _device_form(values, db().get(Device, device_id), error, errors, 422)
        return redirect(url_for("admin.devices", customer=row.customer_id), code=303)
    return _device_form(service.device_values(row), row)


def device_qr(device_id: int) -> Any:
    """The device's QR code as a PNG: what a phone scans at intake to name the machine."""
    row = db().get(Device, device_id)
    if row is None:
        abort(404)
    response = make_response(labels.device_qr_png(row.qr_code))
    response.mimetype = "image/png"
    response.cache_control.private = True
    return response


def device_labels() -> Any:
    """A printable sheet of labels (QR code, model, serial, customer, site), one customer's or chosen ones."""
    customer_id = request.args.get("customer", type=int)
    ids = [int(i) for i in request.args.getlist("device") if i.isdigit()]
    query = _device_query(customer_id)
    if ids:
        query = query.where(Device.id.in_(ids))
    rows = list(db().scalars(query.limit(PAGE_SIZE * 5)))
    return render_template("admin/device_labels.html", devices=rows, type_label=type_labels(db()))


# -- CSV import -----------------------------------------------------------------------------------------


def import_page() -> Any:
    if request.method == "GET":
        return _import_page()
    kind = request.form.get("kind", "")
    upload = request.files.get("file")
    if kind not in csv_import.KINDS:
        return _import_page(kind=kind, errors={"kind": message("choice")}, status=422)
    if upload is None or not upload.filename:
        return _import_page(kind=kind, errors={"file": message("required")}, status=422)
    try:
        result = csv_import.import_csv(db(), kind, upload.read())
    except csv_import.ImportRefused as err:
        found = refusal(err)
        rows = [(p.row, p.column, message(p.code, p.params)) for p in err.rows]
        return _import_page(kind=kind, error=found.text, rows=rows, filename=upload.filename, status=422)
    return _import_page(kind=kind, result=result, filename=upload.filename)


def _import_page(status: int = 200, **context: Any) -> Any:
    context.setdefault("errors", {})
    return render_template(
        "admin/import.html",
        customer_columns=csv_import.CUSTOMER_COLUMNS,
        device_columns=csv_import.DEVICE_COLUMNS,
        **context,
    ), status

"""The agent's intake over HTTP (issue 10, agents): a new caller, look-alikes shown first, the device
list of the chosen customer, serial or QR value, one ticket per form, likely duplicates confirmed."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from support import csrf_token, login

from processes.customers.models import Customer, Site
from processes.devices.models import Device
from processes.tickets.models import Ticket

TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def counts(platform: Any) -> tuple[int, int, int, int]:
    with platform.db.session() as session:
        return tuple(session.scalar(select(func.count()).select_from(m)) for m in (Customer, Site, Device, Ticket))


def intake_page(client: Any) -> dict[str, str]:
    page = client.get("/tickets/new").get_data(as_text=True)
    token = TOKEN.search(page)
    assert token, "the intake form carries a one-time token"
    return {"csrf_token": csrf_token(client, "/tickets/new"), "form_token": token.group(1)}


NEW_CALLER = {
    "new_name": "宁波新锐精密机械有限公司",
    "new_contact_name": "陈工",
    "new_phone": "0574-8888 1234",
    "new_site_name": "北仑一厂",
    "new_address": "宁波市北仑区新碶街道 88 号",
    "new_lat": "29.8990",
    "new_lon": "121.8440",
    "new_model": "VMC-850",
    "new_serial": "NX-VMC-0001",
    "new_device_type": "",
}


def ticket_fields(**extra: str) -> dict[str, str]:
    return {"source_channel": "hotline", "urgency": "yellow", "problem_description": "主轴异响，加工精度下降", **extra}


def device_type(platform: Any) -> str:
    with platform.db.session() as session:
        return session.scalar(select(Device.device_type).order_by(Device.id).limit(1))


def test_a_new_caller_gets_customer_site_device_and_ticket_in_one_go(platform, client) -> None:  # noqa: ANN001
    login(client, "agent")
    before = counts(platform)
    form = {**intake_page(client), **ticket_fields(), **NEW_CALLER, "new_device_type": device_type(platform)}
    response = client.post("/tickets/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert counts(platform) == tuple(n + 1 for n in before)
    with platform.db.session() as session:
        ticket = session.scalar(select(Ticket).order_by(Ticket.id.desc()).limit(1))
        assert ticket.customer.name == NEW_CALLER["new_name"]
        assert ticket.site.name == "北仑一厂" and ticket.device.serial == "NX-VMC-0001"
        assert ticket.device.qr_code == "QR-NX-VMC-0001" and ticket.device.customer_id == ticket.customer_id
        number = ticket.number
    assert response.headers["Location"].endswith(f"/tickets/{number}")
    # Back, then submit the same form again: the ticket already made is shown, nothing new is created.
    again = client.post("/tickets/new", data=form)
    assert again.status_code == 200
    assert number in again.get_data(as_text=True) and 'id="already-created"' in again.get_data(as_text=True)
    assert counts(platform) == tuple(n + 1 for n in before)


def test_every_bad_new_caller_field_is_named_and_nothing_is_created(platform, client) -> None:  # noqa: ANN001
    login(client, "agent")
    before = counts(platform)
    bad = {
        **NEW_CALLER,
        "new_name": "",
        "new_phone": "call me",
        "new_lat": "north",
        "new_lon": "500",
        "new_device_type": "toaster",
    }
    response = client.post(
        "/tickets/new", data={**intake_page(client), **ticket_fields(problem_description="坏"), **bad}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    blocks = {chunk.split('"', 1)[0]: chunk for chunk in page.split('data-field="')[1:]}
    for name in ("new_name", "new_phone", "new_lat", "new_lon", "new_device_type", "problem_description"):
        assert "field-error" in blocks[name], name
    for name in ("new_contact_name", "new_site_name", "new_address", "new_model", "new_serial"):
        assert "field-error" not in blocks[name], name
    assert 'value="NX-VMC-0001"' in page  # what was typed is kept
    assert counts(platform) == before


def test_look_alikes_are_shown_before_creating_and_one_can_be_taken(platform, client) -> None:  # noqa: ANN001
    login(client, "agent")
    with platform.db.session() as session:
        known = session.scalar(select(Customer).order_by(Customer.id).limit(1))
        device = session.scalar(select(Device).where(Device.customer_id != known.id).order_by(Device.id).limit(1))
        known_id, known_phone, serial, device_id = known.id, known.phone, device.serial, device.id
    before = counts(platform)
    typed = {
        **NEW_CALLER,
        "new_phone": known_phone,
        "new_serial": serial.lower(),
        "new_device_type": device_type(platform),
    }
    form = {**intake_page(client), **ticket_fields(), **typed}
    shown = client.post("/tickets/new", data=form)
    assert shown.status_code == 409
    page = shown.get_data(as_text=True)
    assert f'name="use_customer" value="{known_id}"' in page and f'name="use_device" value="{device_id}"' in page
    assert counts(platform) == before
    taken = client.post("/tickets/new", data={**form, "use_customer": str(known_id)})
    assert taken.status_code == 302, taken.get_data(as_text=True)[:1500]
    with platform.db.session() as session:
        ticket = session.scalar(select(Ticket).order_by(Ticket.id.desc()).limit(1))
        assert ticket.customer_id == known_id
    assert counts(platform) == (before[0], before[1], before[2], before[3] + 1)


def test_the_device_list_follows_the_customer_and_a_serial_is_taken_for_the_qr(platform, client) -> None:  # noqa: ANN001
    login(client, "agent")
    with platform.db.session() as session:
        device = session.scalar(select(Device).order_by(Device.id).limit(1))
        customer_id, serial, site = device.customer_id, device.serial, device.site.name
        theirs = set(session.scalars(select(Device.id).where(Device.customer_id == customer_id)))
    listed = client.get(f"/tickets/devices.json?customer_id={customer_id}").get_json()["devices"]
    assert {d["id"] for d in listed} == theirs
    assert any(d["serial"] == serial and d["site"] == site and serial in d["label"] for d in listed)
    refused = client.get("/tickets/devices.json?customer_id=abc")
    assert refused.status_code == 422 and refused.get_json()["error"]["field"] == "customer_id"
    page = client.get("/tickets/new").get_data(as_text=True)
    assert 'id="qr-example"' in page and "QR-" in page
    response = client.post("/tickets/new", data={**intake_page(client), **ticket_fields(device_qr=serial)})
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    with platform.db.session() as session:
        assert session.scalar(select(Ticket).order_by(Ticket.id.desc()).limit(1)).device.serial == serial
    unknown = client.post("/tickets/new", data={**intake_page(client), **ticket_fields(device_qr="NO-SUCH-PLATE")})
    assert unknown.status_code == 422 and "NO-SUCH-PLATE" in unknown.get_data(as_text=True)


def test_a_likely_duplicate_is_shown_and_must_be_confirmed(platform, client) -> None:  # noqa: ANN001
    login(client, "agent")
    with platform.db.session() as session:
        device = session.scalar(select(Device).order_by(Device.id.desc()).limit(1))
        device_id = str(device.id)
    first = client.post("/tickets/new", data={**intake_page(client), **ticket_fields(device_id=device_id)})
    assert first.status_code == 302
    number = first.headers["Location"].rsplit("/", 1)[-1]
    before = counts(platform)
    form = {**intake_page(client), **ticket_fields(device_id=device_id, problem_description="同一台设备又报警了")}
    second = client.post("/tickets/new", data=form)
    assert second.status_code == 409
    assert 'id="likely-duplicates"' in second.get_data(as_text=True) and number in second.get_data(as_text=True)
    assert counts(platform) == before
    confirmed = client.post("/tickets/new", data={**form, "confirm_duplicate": "1"})
    assert confirmed.status_code == 302
    assert counts(platform)[3] == before[3] + 1


def test_the_same_form_sent_twice_at_once_makes_one_ticket(platform, app) -> None:  # noqa: ANN001
    from concurrent.futures import ThreadPoolExecutor

    clients = [app.test_client() for _ in range(2)]
    for each in clients:
        login(each, "agent")
    with platform.db.session() as session:
        device_id = str(session.scalar(select(Device.id).order_by(Device.id).limit(1)))
    form = {**intake_page(clients[0]), **ticket_fields(device_id=device_id)}
    before = counts(platform)[3]
    second = {**form, "csrf_token": csrf_token(clients[1], "/tickets/new")}
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(lambda pair: pair[0].post("/tickets/new", data=pair[1]), zip(clients, (form, second), strict=True))
        )
    assert sorted(a.status_code for a in answers) == [200, 302]
    assert counts(platform)[3] == before + 1

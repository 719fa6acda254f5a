"""Admins manage the directory and staff accounts (issue 10, admins): customers, sites, devices with QR
labels, CSV import all or nothing with row-level problems, and accounts of every role."""

from __future__ import annotations

import html
import io
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from support import csrf_token, login, logout, snapshot

from processes.accounts.models import User
from processes.customers.models import Customer, Site
from processes.devices.models import Device


def page(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def post(client: Any, url: str, data: dict[str, Any], **kwargs: Any) -> Any:
    return client.post(url, data={"csrf_token": csrf_token(client, "/tasks"), **data}, **kwargs)


def as_admin(client: Any, lang: str = "en") -> None:
    login(client, "admin")
    client.post(f"/lang/{lang}", data={"csrf_token": csrf_token(client, "/login")})


CUSTOMER = {
    "name": "宁波精工模具有限公司",
    "contact_name": "周经理",
    "phone": "0574-8888 1234",
    "email": "zhou@jinggong.example",
    "service_level": "gold",
    "locale": "zh_Hans",
}


def _customer(platform: Any, name: str) -> Customer:
    with platform.db.session() as session:
        row = session.scalar(select(Customer).where(Customer.name == name))
        assert row is not None
        session.expunge(row)
        return row


def test_admin_adds_a_customer_a_site_and_a_device_with_a_printable_qr_label(platform, client) -> None:  # noqa: ANN001
    as_admin(client)
    assert post(client, "/admin/customers/new", CUSTOMER).status_code == 303
    customer = _customer(platform, CUSTOMER["name"])
    site = {
        "name": "北仑二厂",
        "address": "宁波市北仑区新碶街道 88 号",
        "region": "北仑",
        "lat": "29.90",
        "lon": "121.84",
    }
    assert post(client, f"/admin/customers/{customer.id}/sites/new", site).status_code == 303
    with platform.db.session() as session:
        site_id = session.scalar(select(Site.id).where(Site.customer_id == customer.id))
    device = {"site_id": str(site_id), "model": "FANUC 0i-TF", "serial": "JG-2024-0001", "device_type": "cnc_lathe"}
    created = post(client, "/admin/devices/new", device)
    assert created.status_code == 303, page(created)[:2000]
    with platform.db.session() as session:
        row = session.scalar(select(Device).where(Device.serial == "JG-2024-0001"))
        assert (row.customer_id, row.site_id, row.qr_code) == (customer.id, site_id, "QR-JG-2024-0001")
        device_id = row.id
    qr = client.get(f"/admin/devices/{device_id}/qr.png")
    assert qr.status_code == 200 and qr.mimetype == "image/png"
    image = Image.open(io.BytesIO(qr.data))
    assert image.size[0] == image.size[1] > 100
    labels = page(client.get(f"/admin/devices/labels?customer={customer.id}"))
    assert f'data-device="{device_id}"' in labels and "QR-JG-2024-0001" in labels and "JG-2024-0001" in labels
    assert f"/admin/devices/{device_id}/qr.png" in labels
    listed = page(client.get(f"/admin/customers/{customer.id}"))
    assert "北仑二厂" in listed and "FANUC 0i-TF · JG-2024-0001" in listed
    # Edits are kept.
    edited = post(client, f"/admin/customers/{customer.id}", {**CUSTOMER, "contact_name": "王工"})
    assert edited.status_code == 303
    assert _customer(platform, CUSTOMER["name"]).contact_name == "王工"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bad_directory_input_names_each_field_and_changes_nothing(platform, client, lang) -> None:  # noqa: ANN001
    as_admin(client, lang)
    assert post(client, "/admin/customers/new", CUSTOMER).status_code == 303
    customer = _customer(platform, CUSTOMER["name"])
    before = snapshot(platform)
    duplicate = post(client, "/admin/customers/new", {**CUSTOMER, "phone": "057488881234", "email": "not-mail"})
    assert duplicate.status_code == 422
    text = page(duplicate)
    errors = {part.split('"')[1]: part for part in text.split("data-error-for=")[1:]}
    assert {"name", "phone", "email"} <= set(errors), errors.keys()
    if lang == "zh":
        assert "已存在" in errors["name"] and "已存在" in errors["phone"]
    else:
        assert "already exists" in errors["phone"]
    site = post(
        client, f"/admin/customers/{customer.id}/sites/new", {"name": "", "address": "x", "lat": "95", "lon": ""}
    )
    assert site.status_code == 422
    site_errors = page(site)
    for name in ("name", "lat", "lon"):
        assert f'data-error-for="{name}"' in site_errors, name
    device = post(
        client, "/admin/devices/new", {"site_id": "999999", "model": "", "serial": "has space", "device_type": "boat"}
    )
    assert device.status_code == 422
    device_errors = page(device)
    for name in ("site_id", "model", "serial", "device_type"):
        assert f'data-error-for="{name}"' in device_errors, name
    with platform.db.session() as session:
        taken = session.scalar(select(Device).order_by(Device.id))
        site_id = taken.site_id
        serial, qr = taken.serial, taken.qr_code
    same = post(
        client,
        "/admin/devices/new",
        {"site_id": str(site_id), "model": "M", "serial": serial.lower(), "device_type": "cnc_lathe", "qr_code": qr},
    )
    assert same.status_code == 422
    assert 'data-error-for="serial"' in page(same) and 'data-error-for="qr_code"' in page(same)
    assert snapshot(platform) == before


CUSTOMERS_CSV = (
    "name,contact_name,phone,email,service_level,locale,site,address,region,lat,lon\n"
    "慈溪液压件厂,陈工,0574-6300 1111,,standard,zh_Hans,一车间,慈溪市观海卫镇 1 号,慈溪,30.17,121.27\n"
    "慈溪液压件厂,陈工,0574-6300 1111,,standard,zh_Hans,二车间,慈溪市观海卫镇 2 号,慈溪,30.18,121.28\n"
    "Harbour Packaging Ltd,Ms. Lin,+86 574 2222 3333,lin@harbour.example,gold,en,"
    "Main plant,1 Port Rd,北仑,29.93,121.88\n"
)


def test_csv_import_of_customers_then_devices(platform, client) -> None:  # noqa: ANN001
    as_admin(client)
    done = post(
        client, "/admin/import", {"kind": "customers", "file": (io.BytesIO(CUSTOMERS_CSV.encode("utf-8-sig")), "c.csv")}
    )
    assert done.status_code == 200
    assert "2 customers, 3 sites, 0 devices" in page(done)
    cixi = _customer(platform, "慈溪液压件厂")
    with platform.db.session() as session:
        assert sorted(session.scalars(select(Site.name).where(Site.customer_id == cixi.id))) == ["一车间", "二车间"]
    devices_csv = (
        "customer_phone,site,model,serial,device_type,qr_code\n"
        "057463001111,二车间,Rexroth A10VSO,CX-HY-001,hydraulic_press,\n"
        "+86 574 2222 3333,main plant,HX-450,HB-PK-77,injection_molding,HB-QR-77\n"
    )
    done = post(
        client, "/admin/import", {"kind": "devices", "file": (io.BytesIO(devices_csv.encode("gb18030")), "d.csv")}
    )
    assert done.status_code == 200, page(done)[:3000]
    assert "0 customers, 0 sites, 2 devices" in page(done)
    with platform.db.session() as session:
        row = session.scalar(select(Device).where(Device.serial == "CX-HY-001"))
        assert row.customer_id == cixi.id and row.qr_code == "QR-CX-HY-001"


def test_a_csv_with_bad_rows_imports_nothing_and_lists_row_column_and_problem(platform, client) -> None:  # noqa: ANN001
    as_admin(client)
    bad = CUSTOMERS_CSV + "Bad Co,,12ab,,diamond,,Plant,,,91,121\n"
    before = snapshot(platform)
    refused = post(client, "/admin/import", {"kind": "customers", "file": (io.BytesIO(bad.encode()), "bad.csv")})
    assert refused.status_code == 422
    text = page(refused)
    table = text[text.index('id="import-problems"') :]
    rows = [r for r in table.split("<tr>")[2:]]
    cells = [tuple(c.split("</td>")[0] for c in r.split("<td>")[1:]) for r in rows]
    assert ("5", "contact_name", "This field is required.") in cells
    assert ("5", "phone", "Digits, spaces and dashes, optionally starting with +.") in cells
    assert ("5", "service_level", "Choose one of the listed options.") in cells
    assert ("5", "address", "This field is required.") in cells
    assert ("5", "lat", "At most 90.") in cells or any(c[:2] == ("5", "lat") for c in cells)
    assert snapshot(platform) == before  # the three good rows were not imported either
    devices_csv = "customer_phone,site,model,serial,device_type\n13900000000,X,M,S-1,cnc_lathe\n"
    refused = post(client, "/admin/import", {"kind": "devices", "file": (io.BytesIO(devices_csv.encode()), "d.csv")})
    assert refused.status_code == 422
    assert "customer_phone" in page(refused) and "13900000000" in page(refused)
    header = post(client, "/admin/import", {"kind": "devices", "file": (io.BytesIO(b"model,colour\nx,y\n"), "h.csv")})
    assert header.status_code == 422 and "serial" in page(header) and "colour" in page(header)
    missing = post(client, "/admin/import", {"kind": "devices"})
    assert missing.status_code == 422 and 'data-error-for="file"' in page(missing)
    assert snapshot(platform) == before


def test_admin_manages_staff_accounts_of_every_role(platform, client) -> None:  # noqa: ANN001
    as_admin(client)
    listing = page(client.get("/admin/accounts"))
    for username in ("agent", "supervisor", "zhangwei", "owner", "auditor", "admin"):
        assert f'data-account="{username}"' in listing, username
    created = post(
        client,
        "/admin/accounts/new",
        {
            "username": "qa.li",
            "role": "auditor",
            "password": "long-enough",
            "display_name": "李审计",
            "locale": "en",
            "phone": "139 0000 1111",
        },
    )
    assert created.status_code == 303, page(created)[:2000]
    with platform.db.session() as session:
        user = session.scalar(select(User).where(User.username == "qa.li"))
        assert (user.role, user.locale, user.phone, user.active) == ("auditor", "en", "139 0000 1111", True)
        user_id = user.id
        zhang_id = session.scalar(select(User.id).where(User.username == "zhangwei"))
        admin_id = session.scalar(select(User.id).where(User.username == "admin"))
    # An engineer's language and phone; their profile follows.
    assert (
        post(
            client,
            f"/admin/accounts/{zhang_id}",
            {"display_name": "张伟", "locale": "zh_Hans", "phone": "139 1111 2222"},
        ).status_code
        == 303
    )
    # Reset and deactivate.
    assert post(client, f"/admin/accounts/{user_id}/password", {"password": "new-password-1"}).status_code == 303
    assert post(client, f"/admin/accounts/{user_id}/active", {"active": "0"}).status_code == 303
    own = post(client, f"/admin/accounts/{admin_id}/active", {"active": "0"})
    assert own.status_code == 409
    logout(client)
    token = csrf_token(client, "/login")
    refused = client.post("/login", data={"username": "qa.li", "password": "new-password-1", "csrf_token": token})
    assert refused.status_code != 302
    as_admin(client)
    assert post(client, f"/admin/accounts/{user_id}/active", {"active": "1"}).status_code == 303
    logout(client)
    login(client, "qa.li", "new-password-1")
    with platform.db.session() as session:
        from processes.engineers.models import Engineer

        assert session.scalar(select(Engineer.phone).where(Engineer.user_id == zhang_id)) == "139 1111 2222"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bad_account_input_is_named_and_supervisors_cannot_manage_accounts(platform, client, lang) -> None:  # noqa: ANN001
    as_admin(client, lang)
    before = snapshot(platform)
    bad = post(
        client,
        "/admin/accounts/new",
        {
            "username": "Bad Name",
            "role": "engineer",
            "password": "short",
            "display_name": "",
            "locale": "fr",
            "phone": "abc",
        },
    )
    assert bad.status_code == 422
    text = page(bad)
    for name in ("username", "role", "password", "display_name", "locale", "phone"):
        assert f'data-error-for="{name}"' in text, name
    taken = post(
        client,
        "/admin/accounts/new",
        {"username": "agent", "role": "agent", "password": "long-enough", "display_name": "x"},
    )
    assert taken.status_code == 422 and ("agent" in page(taken))
    with platform.db.session() as session:
        agent_id = session.scalar(select(User.id).where(User.username == "agent"))
    short = post(client, f"/admin/accounts/{agent_id}/password", {"password": "123"})
    assert short.status_code == 422 and 'data-error-for="password"' in page(short)
    assert snapshot(platform) == before
    logout(client)
    login(client, "supervisor")
    assert client.get("/admin/accounts").status_code == 403
    assert post(client, f"/admin/accounts/{agent_id}/active", {"active": "0"}).status_code == 403
    assert client.get("/admin/customers").status_code == 200  # the directory is theirs too
    assert snapshot(platform) == before


def test_an_engineers_home_is_picked_on_the_map_not_typed(client) -> None:  # noqa: ANN001
    as_admin(client)
    form = page(client.get("/admin/engineers/1"))
    assert 'class="team-map pick-map"' in form
    assert '<input type="hidden" name="home_lat"' in form and '<input type="hidden" name="home_lon"' in form
    assert 'name="home_lat" type="text"' not in form

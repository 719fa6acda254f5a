"""The desk's intake page with the consumer after-sales process chosen: the consumer's channels and purchase
facts in the reader's language, a ticket created from them, and a bad purchase date refused next to its field
in Chinese and English with nothing created."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.models import ProcessInstance
from processes.tickets.models import Ticket
from tests.support import csrf_token, device_with_candidates, drain, login
from tests.templates_consumer.consumer_support import PROBLEM, PROCESS, deploy

URL = f"/tickets/new?process={PROCESS}"
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def _post(client: Any, device: Any, **changes: str) -> Any:
    page = client.get(URL).get_data(as_text=True)
    token = TOKEN.search(page)
    assert token, page[:2000]
    form = {
        "csrf_token": csrf_token(client, URL),
        "form_token": token.group(1),
        "process": PROCESS,
        "source_channel": "app",
        "urgency": "orange",
        "customer_id": str(device.customer_id),
        "device_id": str(device.id),
        "problem_description": PROBLEM,
        "purchase_date": "2025-12-01",
        "receipt_number": "JD-88120001",
        "warranty": "unknown",
        "address_details": "7栋1203",
        "confirm_duplicate": "1",
        **changes,
    }
    return client.post(URL, data=form)


def _field(page: str, name: str) -> str:
    found = re.search(rf'<div class="field[^"]*" data-field="{name}">(.*?)</div>', page, re.S)
    assert found, f"no {name} field on the page"
    return found.group(1)


def test_the_consumer_form_speaks_to_a_chinese_agent_and_creates_the_ticket(platform: Any, client: Any) -> None:
    deploy(platform)
    login(client, "agent")
    page = client.get(URL).get_data(as_text=True)
    assert '<input type="hidden" name="process" value="consumer_after_sales">' in page
    for words in ("门店/经销商", "品牌APP", "400服务热线", "购买日期", "发票号或购物小票号", "是否在保修期内？"):
        assert words in page, words
    assert "field-geolocation" not in page
    device = device_with_candidates(platform, None, "orange", 1, PROBLEM)
    response = _post(client, device)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    number = response.headers["Location"].rsplit("/", 1)[-1]
    drain(platform)
    with platform.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert session.get(ProcessInstance, ticket.process_instance_id).process_id == PROCESS
        assert ticket.source_channel == "app" and ticket.urgency == "orange"
        assert ticket.extra == {
            "purchase_date": "2025-12-01",
            "receipt_number": "JD-88120001",
            "warranty": "unknown",
            "address_details": "7栋1203",
        }
    # The staff ticket page shows them, titled by the process's intake form, choices by their titles.
    shown = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert '<dt>购买日期</dt><dd data-intake="purchase_date">2025-12-01</dd>' in shown
    assert '<dd data-intake="warranty">不确定，上门核实</dd>' in shown
    assert '<dd data-intake="address_details">7栋1203</dd>' in shown


@pytest.mark.parametrize(("username", "text"), [("agent", "格式不正确。"), ("agent2", "The format is not valid.")])
def test_a_bad_purchase_date_is_refused_next_to_its_field(platform: Any, client: Any, username: str, text: str) -> None:
    deploy(platform)
    login(client, username)
    device = device_with_candidates(platform, None, "orange", 1, PROBLEM)
    with platform.db.session() as session:
        before = session.scalar(select(func.count()).select_from(Ticket))
    response = _post(client, device, purchase_date="2025-02-31x")
    assert response.status_code == 422
    field = _field(response.get_data(as_text=True), "purchase_date")
    assert text in field and ("购买日期" if username == "agent" else "Purchase date") in field
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == before

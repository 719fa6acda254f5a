"""Opening the customer's page never writes the ticket.

The page used to read the ticket in one session and ``merge`` that copy into a second one, which
wrote the copy's values back: a worker step committed in between (the customer's page refreshes
itself while the worker runs) was silently undone, and the ticket stayed "awaiting customer" for good.
The browser test caught it; this reproduces the interleaving deterministically.
"""

from __future__ import annotations

from sqlalchemy import select
from support import device_with_candidates, ticket

from processes.accounts.models import User
from processes.tickets.models import Ticket
from webui.customer import views as customer_views


def test_customer_page_keeps_what_the_worker_wrote_meanwhile(platform, client, monkeypatch) -> None:  # noqa: ANN001
    with platform.db.session() as session:
        device = session.merge(device_with_candidates(platform, "cnc_lathe"))
        agent = session.scalar(select(User).where(User.username == "agent"))
        created = platform.intake.create(session, {
            "source_channel": "wechat", "urgency": "orange", "customer_id": device.customer_id,
            "device_id": device.id, "problem_description": "主轴异响，产线停机",
        }, creator=agent)
        number = created.number
    link = platform.links.token(ticket(platform, number))
    resolve = customer_views._resolve

    def resolve_then_worker_writes(token):  # noqa: ANN001, ANN202
        found = resolve(token)
        with platform.db.session() as other:  # a worker step commits between the page's two sessions
            row = other.scalar(select(Ticket).where(Ticket.number == number))
            row.status, row.rework_count = "repairing", 1
        return found

    monkeypatch.setattr(customer_views, "_resolve", resolve_then_worker_writes)
    assert client.get(f"/c/{link}").status_code == 200

    after = ticket(platform, number)
    assert (after.status, after.rework_count) == ("repairing", 1)

"""Opening the customer's page never writes the ticket.

The page used to read the ticket in one session and ``merge`` that copy into a second one, which
wrote the copy's values back: a worker step committed in between (the customer's page refreshes
itself while the worker runs) was silently undone, and the ticket stayed "awaiting customer" for good.
The browser test caught it.  A request now reads and writes in one transaction, so the worker's step
waits for the page's transaction (SQLite: the writer lock; PostgreSQL: the row) and commits right after
it; whatever the page did, the worker's values must be the ones that stay.
"""

from __future__ import annotations

import threading

from sqlalchemy import select
from support import device_with_candidates, ticket

from processes.accounts.models import User
from processes.tickets.models import Ticket
from webui.customer import views as customer_views


def test_customer_page_keeps_what_the_worker_wrote_meanwhile(platform, client, monkeypatch) -> None:  # noqa: ANN001
    with platform.db.session() as session:
        device = session.merge(device_with_candidates(platform, "cnc_lathe"))
        agent = session.scalar(select(User).where(User.username == "agent"))
        created = platform.intake.create(
            session,
            {
                "source_channel": "wechat",
                "urgency": "orange",
                "customer_id": device.customer_id,
                "device_id": device.id,
                "problem_description": "主轴异响，产线停机",
            },
            creator=agent,
        )
        number = created.number
    link = platform.links.token(ticket(platform, number))
    resolve = customer_views._resolve

    def worker_step() -> None:
        with platform.db.session() as other:
            row = other.scalar(select(Ticket).where(Ticket.number == number))
            row.status, row.rework_count = "repairing", 1

    worker = threading.Thread(target=worker_step)

    def resolve_then_worker_writes(token):  # noqa: ANN001, ANN202
        found = resolve(token)
        worker.start()  # a worker step commits while the page is being served
        return found

    monkeypatch.setattr(customer_views, "_resolve", resolve_then_worker_writes)
    assert client.get(f"/c/{link}").status_code == 200
    worker.join(timeout=30)
    assert not worker.is_alive()

    after = ticket(platform, number)
    assert (after.status, after.rework_count) == ("repairing", 1)

"""Helpers of the root-cause and checklist tests: form posts, field errors, closed tickets."""

from __future__ import annotations

import re

from sqlalchemy import select
from support import csrf_token

from processes.accounts.models import User
from processes.devices.models import Device

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def post(
    client,
    url: str,
    data: dict[str, str],
    headers: dict[str, str] | None = None,  # noqa: ANN001, ANN201
    form_url: str | None = None,
):
    """Post a form with a fresh CSRF token (from ``form_url``, the page that holds the form)."""
    token = csrf_token(client, form_url or url)
    return client.post(url, data={"csrf_token": token, **data}, headers=headers or {})


def field_error(page: str, name: str) -> str:
    match = re.search(rf'data-error-for="{name}">([^<]+)<', page)
    assert match, f"no message for {name}"
    return match.group(1)


def closed_ticket(
    platform,
    device_id: int,
    cause: str | None,
    suggestion: str | None,
    *,  # noqa: ANN001
    closed: bool = True,
) -> int:
    """A ticket with a running process instance whose close-out is written straight onto the row.

    The lifecycle's own close-out is exercised in test_close_out_* below and in test_timers; here only
    what the suggestions page reads matters.
    """
    with platform.db.session() as session:
        agent = session.scalar(select(User).where(User.username == "agent"))
        ticket = platform.intake.create(
            session,
            {
                "source_channel": "hotline",
                "urgency": "blue",
                "device_id": device_id,
                "problem_description": "主轴异响，需检查",
            },
            creator=agent,
        )
        now = platform.engine.clock.now()
        ticket.root_cause, ticket.prevention_suggestion = cause, suggestion
        ticket.resolved_at = now
        if closed:
            ticket.closed_at, ticket.status = now, "closed"
        return ticket.id


def two_models(platform) -> tuple[list[int], list[int]]:  # noqa: ANN001
    """Device ids of two different models (two devices of the first)."""
    with platform.db.session() as session:
        devices = list(session.scalars(select(Device).order_by(Device.id)))
    first = [d.id for d in devices if d.model == devices[0].model]
    second = [d.id for d in devices if d.model != devices[0].model][:1]
    return first, second

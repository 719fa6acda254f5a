"""Open offers are re-planned together; an accepted offer never moves; declines stay forbidden."""

from __future__ import annotations

from sqlalchemy import select
from support import drain

from engine.models import JournalEvent
from processes.accounts.models import User
from processes.devices.models import Device
from processes.engineers.models import Engineer
from processes.tickets.models import Offer, Ticket
from processes.tickets.tasks import Actor


def two_spindle_engineers(platform, device: Device) -> tuple[Engineer, Engineer]:  # noqa: ANN001
    """Only A and B can fix spindles; A is nearer every site but can take one more job today."""
    with platform.db.session() as session:
        site = session.merge(device).site
        engineers = list(session.scalars(select(Engineer).order_by(Engineer.id)))
        for engineer in engineers:
            engineer.skills = {k: v for k, v in engineer.skills.items() if k != "spindle"}
        a, b = engineers[0], engineers[1]
        a.skills, b.skills = {**a.skills, "spindle": 4}, {**b.skills, "spindle": 4}
        a.home_lat, a.home_lon, a.daily_capacity = site.lat + 0.005, site.lon, 1
        b.home_lat, b.home_lon, b.daily_capacity = site.lat + 0.03, site.lon, 5
        a.radius_km = b.radius_km = 10
        return a, b


def new_ticket(platform, device: Device, text: str = "磨床主轴过热") -> int:  # noqa: ANN001
    with platform.db.session() as session:
        agent = session.scalar(select(User).where(User.username == "agent"))
        ticket = platform.intake.create(
            session,
            {"source_channel": "web", "urgency": "yellow", "device_id": device.id, "problem_description": text},
            creator=agent,
        )
        return ticket.id


def offers(platform, ticket_id: int) -> list[tuple[int, str | None]]:  # noqa: ANN001
    with platform.db.session() as session:
        rows = session.scalars(select(Offer).where(Offer.ticket_id == ticket_id).order_by(Offer.id))
        return [(o.engineer_id, o.outcome) for o in rows]


def answer(platform, ticket_id: int, data: dict) -> None:  # noqa: ANN001
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        (view,) = platform.desk.for_ticket(session, ticket)
        platform.desk.complete(session, Actor(user=ticket.engineer.user), view.id, data)
    drain(platform)


def test_two_tickets_offered_to_one_engineer_are_spread_jointly(platform) -> None:  # noqa: ANN001
    with platform.db.session() as session:
        device = session.scalar(select(Device).where(Device.device_type == "grinder").order_by(Device.id))
    a, b = two_spindle_engineers(platform, device)
    first = new_ticket(platform, device)
    second = new_ticket(platform, device)
    drain(platform)  # each ticket is offered to its best engineer, then the rebalance job runs
    plans = {first: offers(platform, first), second: offers(platform, second)}
    finals = {t: [e for e, outcome in rows if outcome is None] for t, rows in plans.items()}
    assert sorted(finals[first] + finals[second]) == sorted([a.id, b.id]), plans
    moved = [t for t, rows in plans.items() if (a.id, "moved") in rows]
    assert len(moved) == 1
    with platform.db.session() as session:
        ticket = session.get(Ticket, moved[0])
        assert ticket.engineer_id == b.id
        (view,) = platform.desk.for_ticket(session, ticket)
        assert view.data["offer"]["engineer_id"] == b.id
        actor = session.scalar(
            select(JournalEvent.actor).where(
                JournalEvent.instance_id == ticket.process_instance_id, JournalEvent.kind == "task_data_set"
            )
        )
        assert actor == "dispatcher"
        b_inbox = {i.ticket.id for i in platform.desk.inbox(session, Actor(user=session.get(User, b.user_id)))}
        a_inbox = {i.ticket.id for i in platform.desk.inbox(session, Actor(user=session.get(User, a.user_id)))}
    assert moved[0] in b_inbox and moved[0] not in a_inbox
    # B declines the moved ticket; A holds the other offer with its last slot, so B's decline stands.
    answer(platform, moved[0], {"decision": "decline", "decline_reason": "overloaded"})
    platform.rebalance_offers()
    after = offers(platform, moved[0])
    assert (b.id, "declined") in after
    assert (b.id, None) not in after[after.index((b.id, "declined")) :], after  # never offered to B again
    with platform.db.session() as session:
        assert session.get(Ticket, moved[0]).engineer_id != b.id


def test_an_accepted_offer_never_moves(platform) -> None:  # noqa: ANN001
    with platform.db.session() as session:
        device = session.scalar(select(Device).where(Device.device_type == "grinder").order_by(Device.id))
    a, b = two_spindle_engineers(platform, device)
    first = new_ticket(platform, device)
    drain(platform)
    assert offers(platform, first) == [(a.id, None)]
    answer(platform, first, {"decision": "accept"})
    second = new_ticket(platform, device)
    drain(platform)
    report = platform.rebalance_offers()
    assert offers(platform, first) == [(a.id, "accepted")]
    assert offers(platform, second) == [(b.id, None)]  # A is full: the shortlist already knew it
    assert report["moved"] == []

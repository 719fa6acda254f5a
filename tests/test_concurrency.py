"""One writer per instance: two people completing the same task at once."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from support import drain

from engine import journal
from engine.models import JournalEvent, ProcessInstance
from processes.accounts.models import User
from processes.accounts.service import create_user, hash_password
from processes.devices.models import Device
from processes.engineers.models import Engineer
from processes.errors import Conflict
from processes.tickets.models import Ticket
from processes.tickets.tasks import Actor


def test_two_supervisors_assigning_at_once_exactly_one_wins(platform) -> None:  # noqa: ANN001
    with platform.db.session() as session:
        create_user(session, "supervisor2", hash_password("closeloop-demo"), "supervisor", "李主管")
        device = session.scalar(select(Device).where(Device.device_type == "hydraulic_press"))
        agent = session.scalar(select(User).where(User.username == "agent"))
        ticket_id = platform.intake.create(
            session,
            {
                "source_channel": "web",
                "urgency": "yellow",
                "device_id": device.id,
                "problem_description": "液压站压力不稳",
            },
            creator=agent,
        ).id
    drain(platform)
    while True:  # every candidate declines, so the ticket waits for a supervisor
        with platform.db.session() as session:
            ticket = session.get(Ticket, ticket_id)
            (view,) = platform.desk.for_ticket(session, ticket)
            if view.spec_name == "assign_manually":
                break
            platform.desk.complete(
                session,
                Actor(user=ticket.engineer.user),
                view.id,
                {"decision": "decline", "decline_reason": "skill_mismatch"},
            )
        drain(platform)

    with platform.db.session() as session:
        supervisors = list(session.scalars(select(User).where(User.role == "supervisor").order_by(User.id)))
        engineer_id = session.scalar(select(Engineer.id).order_by(Engineer.id))
        assert engineer_id is not None
    barrier = threading.Barrier(len(supervisors))
    outcomes: dict[str, object] = {}

    def assign(user: User) -> None:
        barrier.wait()
        try:
            with platform.db.session() as session:
                platform.desk.complete(session, Actor(user=user), view.id, {"assigned_engineer_id": engineer_id})
            outcomes[user.username] = "ok"
        except Conflict as err:
            outcomes[user.username] = err

    threads = [threading.Thread(target=assign, args=(user,)) for user in supervisors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [name for name, outcome in outcomes.items() if outcome == "ok"]
    losers = [outcome for outcome in outcomes.values() if isinstance(outcome, Conflict)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    (loser,) = losers
    assert loser.status == 409 and loser.code == "task_already_completed"
    winner = next(u for u in supervisors if u.username == winners[0])
    assert loser.params["by"] == winner.display_name and loser.params["at"]
    with platform.db.session() as session:
        instance_id = session.get(Ticket, ticket_id).process_instance_id
        instance = session.get(ProcessInstance, instance_id)
        assert journal.verify(session, instance_id, instance.journal_head) is None
        assert (
            session.scalar(
                select(func.count())
                .select_from(JournalEvent)
                .where(JournalEvent.task_id == view.id, JournalEvent.kind == "user_task_completed")
            )
            == 1
        )

"""Timers on the injectable clock: escalation (D4), response deadline (D5), recurrence watch (M1)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from support import complete, drain, open_ticket

from engine import journal, sweeper
from engine.models import JournalEvent, ProcessInstance, Timer
from processes.accounts.service import create_user, hash_password
from processes.dispatch.models import EngineerGroup
from processes.engineers.models import Engineer
from processes.notifications.models import Notification
from processes.tickets.models import Offer, Ticket

ALARM = "X轴伺服报警"


def notifications(platform, template: str) -> list[Notification]:  # noqa: ANN001
    with platform.db.session() as session:
        return list(
            session.scalars(select(Notification).where(Notification.template == template).order_by(Notification.id))
        )


def test_no_answer_in_30_minutes_escalates_and_reoffers(platform) -> None:  # noqa: ANN001
    ticket_id = open_ticket(platform, "orange", "cnc_lathe", ALARM)
    with platform.db.session() as session:
        first = session.get(Ticket, ticket_id).engineer_id
        offer = session.scalar(select(Offer).where(Offer.ticket_id == ticket_id))
        assert (offer.accept_due_at - offer.offered_at).total_seconds() == 30 * 60
        # The group's own supervisor is told, not every supervisor of the plant.
        lead = create_user(session, "lead", hash_password("closeloop-demo"), "supervisor", "组长", phone="13900000009")
        session.get(EngineerGroup, session.get(Engineer, first).group).supervisor_user_id = lead.id
        lead_id = lead.id
    platform.engine.clock.advance(minutes=29)
    drain(platform)
    assert not notifications(platform, "escalation_supervisor")
    platform.engine.clock.advance(minutes=1, seconds=1)
    drain(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        offers = list(session.scalars(select(Offer).where(Offer.ticket_id == ticket_id).order_by(Offer.id)))
        assert [o.outcome for o in offers] == ["timed_out", None]
        assert offers[1].engineer_id != first and ticket.engineer_id == offers[1].engineer_id
        assert ticket.escalations == 1 and ticket.status == "offered"
    supervisor = notifications(platform, "escalation_supervisor")
    assert {n.channel for n in supervisor} == {"sms", "inapp"}
    assert {n.recipient_user_id for n in supervisor} == {lead_id}
    assert all(n.address for n in supervisor if n.channel == "sms")
    sms = next(n for n in supervisor if n.channel == "sms")
    assert "未在规定时间内答复" in sms.body and sms.locale == "zh_Hans"
    (customer,) = notifications(platform, "escalation_customer")
    assert customer.channel == "sms" and "资深工程师" in customer.body
    group = notifications(platform, "escalation_group")
    assert group and all(n.channel == "inapp" for n in group)
    with platform.db.session() as session:
        first_group = session.get(Engineer, first).group
        members = {
            e.user_id
            for e in session.scalars(select(Engineer).where(Engineer.group == first_group, Engineer.id != first))
        }
    assert {n.recipient_user_id for n in group} == members

    # Firing is idempotent: advancing again notifies no one twice.
    count = len(notifications(platform, "escalation_supervisor"))
    with platform.db.session() as session:
        instance_id = session.get(Ticket, ticket_id).process_instance_id
    platform.engine.advance(instance_id)
    platform.engine.advance(instance_id)
    assert len(notifications(platform, "escalation_supervisor")) == count


def test_missed_response_deadline_marks_the_ticket_and_tells_the_supervisor(platform, client) -> None:  # noqa: ANN001
    ticket_id = open_ticket(platform, "red", "cnc_lathe", ALARM)
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    platform.engine.clock.advance(minutes=31)
    drain(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.sla_breached_at == platform.engine.clock.now()
        number, engineer_user = ticket.number, ticket.engineer.user_id
        local = ticket.response_due_at.astimezone(ZoneInfo("Asia/Shanghai"))
        due = f"{local.month}月{local.day}日 {local:%H:%M}"  # as a Chinese reader writes a date this year
    (sms,) = [n for n in notifications(platform, "response_breached") if n.channel == "sms"]
    # In the supervisor's language: the urgency in words, the deadline on the plant's clock.
    assert number in sms.body and "红色" in sms.body and due in sms.body and "red" not in sms.body
    # The engineer was told of the offer when it was made.
    assert engineer_user in {n.recipient_user_id for n in notifications(platform, "job_offered")}
    from support import login

    login(client, "supervisor")
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert "sla-breached" in page


def test_arriving_in_time_is_no_breach(platform) -> None:  # noqa: ANN001
    ticket_id = open_ticket(platform, "red", "cnc_lathe", ALARM)
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    platform.engine.clock.advance(minutes=20)
    complete(platform, ticket_id, "on_site", {})
    platform.engine.clock.advance(minutes=20)
    drain(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.sla_breached_at is None
        fired = session.scalars(
            select(JournalEvent.task_spec).where(
                JournalEvent.instance_id == ticket.process_instance_id, JournalEvent.kind == "timer_fired"
            )
        ).all()
        assert "response_deadline" in fired
    assert not notifications(platform, "response_breached")


def close(platform, ticket_id: int) -> None:  # noqa: ANN001
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    complete(platform, ticket_id, "on_site", {})
    complete(
        platform,
        ticket_id,
        "close_out",
        {"root_cause": "wear", "prevention_suggestion": "定期润滑", "fixed_first_time": True},
    )
    complete(platform, ticket_id, "customer_acceptance", {"verdict": "accept"}, customer=True)


def test_the_same_problem_back_within_7_days_is_a_recurrence(platform) -> None:  # noqa: ANN001
    first = open_ticket(platform, "yellow", "cnc_lathe", ALARM)
    close(platform, first)
    platform.engine.clock.advance(days=3)
    second = open_ticket(platform, "yellow", "cnc_lathe", ALARM)
    with platform.db.session() as session:
        old, new = session.get(Ticket, first), session.get(Ticket, second)
        assert old.first_time_fix_confirmed is False and old.recurred_by == new.number
        instance = session.get(ProcessInstance, old.process_instance_id)
        assert instance.status == "completed"
        assert not session.scalar(select(func.count()).select_from(Timer).where(Timer.instance_id == instance.id))
    assert notifications(platform, "problem_recurred")


def test_seven_quiet_days_confirm_a_first_time_fix(platform) -> None:  # noqa: ANN001
    ticket_id = open_ticket(platform, "blue", "cnc_lathe", ALARM)
    close(platform, ticket_id)
    platform.engine.clock.advance(days=6, hours=23)
    drain(platform)
    with platform.db.session() as session:
        assert session.get(Ticket, ticket_id).first_time_fix_confirmed is None
    platform.engine.clock.advance(hours=1, seconds=1)
    drain(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.first_time_fix_confirmed is True
        assert session.get(ProcessInstance, ticket.process_instance_id).status == "completed"


def test_timers_fire_from_the_database_after_redis_lost_everything(platform) -> None:  # noqa: ANN001
    ticket_id = open_ticket(platform, "orange", "cnc_lathe", ALARM)
    with platform.db.session() as session:
        instance_id = session.get(Ticket, ticket_id).process_instance_id
        due = session.scalars(select(Timer.due_at).where(Timer.instance_id == instance_id)).all()
    assert len(due) == 2  # the answer deadline and the response deadline
    platform.redis.flushdb()  # the scheduled wake-ups are gone
    platform.engine.clock.advance(minutes=31)
    platform.worker().work(burst=True)
    with platform.db.session() as session:
        assert session.get(Ticket, ticket_id).escalations == 0  # nothing was queued
    assert sweeper.sweep(platform.engine)["timers_due"] == 1
    drain(platform)
    with platform.db.session() as session:
        assert session.get(Ticket, ticket_id).escalations == 1
        assert journal.verify(session, instance_id, session.get(ProcessInstance, instance_id).journal_head) is None

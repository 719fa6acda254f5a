"""Sending the outbox: one rq job per row, a claim before the provider call, capped exponential backoff.

The guarantee, exactly:

* A row is sent only after this worker *claimed* it in the database (``pending`` -> ``sending`` with a lease,
  ``attempts`` + 1, committed) and its result is recorded only by the claim that sent it (the update matches
  ``attempts``).  Two jobs for the same row (a re-enqueue by the sweeper, a duplicate in Redis) therefore never
  call the provider at the same time, and a row recorded ``sent`` is never sent again.
* ``retry`` (5xx, timeout, throttling, an unreadable answer) puts the row back to ``pending`` with
  ``next_attempt_at`` = now + backoff·2^(n-1) (capped) and schedules the job then; ``failed`` (a permanent
  refusal) keeps the provider's answer for the outbox page, where an admin can send it again.
* The one window we cannot close from our side is a crash after the provider accepted and before our commit:
  the lease runs out, the sweeper re-enqueues the row and it is sent again with the *same* provider-side
  de-duplication key (Aliyun ``OutId``, Tencent ``SessionContext``, WeChat ``client_msg_id``, the e-mail's
  ``Message-ID``, all derived from the row's idempotency key).  So: at least once to the provider, at most
  once per successful claim, and exactly once for the recipient wherever the provider de-duplicates on that key
  (WeChat does within 10 minutes; for SMS and SMTP the key lets receipts and mail clients match the copies).
* Nothing is lost: every row not yet ``sent`` or ``failed`` is found again by :meth:`Delivery.sweep` (pending
  past its due time plus the grace, or ``sending`` past its lease), which the worker's sweeper runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, event, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.db import Database, after_commit
from handlers.filestore import FileStore

from .channels import Outcome, SmsMessage
from .models import Notification
from .service import WRITTEN
from .settings import NotificationSettings

log = logging.getLogger(__name__)
JOB = "processes.jobs.deliver_notification"


class Sender(Protocol):
    def send(self, message: SmsMessage) -> Outcome: ...


class RqQueue(Protocol):
    """The two calls of an rq ``Queue`` delivery uses."""

    def enqueue(self, f: str, *args: Any, **kwargs: Any) -> Any: ...

    def enqueue_at(self, datetime: datetime, f: str, *args: Any, **kwargs: Any) -> Any: ...


class Channels:
    """The adapters this plant's settings configure, built once per process."""

    def __init__(self, settings: NotificationSettings, redis: Any, files: FileStore | None = None) -> None:
        self.settings = settings
        self.redis = redis
        self.files = files  # where e-mail attachments are read from (by hash)
        self.configured = settings.configured()
        self._sms: Sender | None = None
        self._wechat: Any = None
        self._email: Any = None

    def sms(self) -> Sender:
        if self._sms is None:
            s = self.settings
            if s.sms_provider == "aliyun":
                from .channels.aliyun_sms import AliyunSms

                self._sms = AliyunSms(
                    access_key_id=s.aliyun_access_key_id,
                    access_key_secret=s.aliyun_access_key_secret,
                    sign_name=s.sms_sign_name,
                    endpoint=s.aliyun_endpoint,
                    timeout_s=s.delivery_timeout_s,
                )
            else:
                from .channels.tencent_sms import TencentSms

                self._sms = TencentSms(
                    secret_id=s.tencent_secret_id,
                    secret_key=s.tencent_secret_key,
                    sdk_app_id=s.tencent_sdk_app_id,
                    sign_name=s.sms_sign_name,
                    region=s.tencent_region,
                    endpoint=s.tencent_endpoint,
                    timeout=s.delivery_timeout_s,
                )
        return self._sms

    def send(self, row: Notification) -> Outcome:
        """One provider call for one outbox row."""
        s = self.settings
        address = row.address or ""
        values = {name: str(value) for name, value in (row.params or {}).items()}
        values.update(subject=row.subject, body=row.body)
        if row.channel == "sms":
            spec = s.sms_templates.get(row.template)
            if not spec:
                return Outcome("failed", f"no SMS template id configured for {row.template!r} (sms_templates)")
            template_id, params = provider_params(spec, values, exclude=("subject", "body"))
            return self.sms().send(SmsMessage(address, template_id, params, row.idempotency_key))
        if row.channel == "wechat":
            spec = s.wechat_templates.get(row.template)
            if not spec:
                return Outcome("failed", f"no WeChat template id configured for {row.template!r} (wechat_templates)")
            template_id, data = provider_params(spec, values, exclude=("subject", "body"))
            if ":" not in spec:
                data = {"first": row.subject, **data, "remark": row.body}
            if self._wechat is None:
                from .channels.wechat import WeChatTemplates

                self._wechat = WeChatTemplates(
                    appid=s.wechat_appid,
                    secret=s.wechat_secret,
                    cache=self.redis,
                    endpoint=s.wechat_endpoint,
                    timeout_s=s.delivery_timeout_s,
                )
            return self._wechat.send(
                openid=address, template_id=template_id, data=data, idempotency_key=row.idempotency_key
            )
        if row.channel == "email":
            from .channels.email import AttachmentError, SmtpMail, attachment_of

            spec = (row.params or {}).get("attachment")
            try:
                attachments = [attachment_of(spec, self.files)] if isinstance(spec, dict) else []
            except AttachmentError as error:
                return Outcome("failed", str(error)[:2000])
            if self._email is None:
                self._email = SmtpMail(
                    host=s.smtp_host,
                    port=s.smtp_port,
                    sender=s.smtp_sender,
                    security=s.smtp_security,
                    username=s.smtp_username,
                    password=s.smtp_password,
                    ca_file=s.smtp_ca_file,
                    timeout_s=s.delivery_timeout_s,
                )
            return self._email.send(
                to=address,
                subject=row.subject,
                text=row.body,
                idempotency_key=row.idempotency_key,
                attachments=attachments,
            )
        return Outcome("failed", f"unknown channel {row.channel!r}")


def provider_params(spec: str, values: dict[str, str], exclude: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """A provider template id and the parameters it takes, from a setting ``id`` or ``id:name,key=name,…``.

    The provider's approved template fixes its parameters (Tencent's are positional, WeChat's are keywords such
    as ``thing1``), so a plant lists them: ``449739:ticket,engineer,engineer_phone`` sends those three in that
    order; ``TPL:thing1=ticket,time2=due`` names WeChat's keywords.  A bare id sends every parameter of the
    message except its rendered subject and body, in the message's order.
    """
    template_id, _, listed = spec.partition(":")
    if not listed:
        return template_id, {name: value for name, value in values.items() if name not in exclude}
    params = {}
    for item in listed.split(","):
        key, _, name = item.strip().partition("=")
        params[key] = values.get(name or key, "")
    return template_id, params


@dataclass
class Delivery:
    db: Database
    clock: Clock
    queue: RqQueue | None
    settings: NotificationSettings
    channels: Channels
    grace: timedelta

    @property
    def sendable(self) -> tuple[str, ...]:
        return tuple(sorted(self.channels.configured - {"inapp"}))

    # -- enqueueing ----------------------------------------------------------------------------------
    def watch(self, factory: sessionmaker[Session]) -> None:
        """Enqueue the rows a transaction of ``factory`` wrote once it commits (never on rollback)."""
        event.listen(factory, "after_commit", self._announce)
        event.listen(factory, "after_rollback", lambda session: session.info.pop(WRITTEN, None))

    def _announce(self, session: Session) -> None:
        written = session.info.pop(WRITTEN, [])
        sendable = set(self.sendable)
        self.enqueue([row_id for row_id, channel in written if channel in sendable])

    def enqueue(self, ids: list[int], at: datetime | None = None) -> None:
        """Best effort: a row whose job never reaches Redis is found by the sweeper."""
        if self.queue is None:
            return
        for row_id in ids:
            try:
                # The row is the record of what happened: rq need not keep the job's result.
                if at is None:
                    self.queue.enqueue(JOB, row_id, job_timeout=600, result_ttl=0)
                else:
                    self.queue.enqueue_at(at, JOB, row_id, job_timeout=600, result_ttl=0)
            except Exception as error:  # noqa: BLE001 - Redis away: the sweep re-enqueues from the database
                log.warning("could not enqueue delivery of notification %s: %s", row_id, error)

    # -- the job ----------------------------------------------------------------------------------------
    def deliver(self, notification_id: int) -> str:
        """Claim, send, record.  Returns what happened (for the job's result and the tests)."""
        claimed = self._claim(notification_id)
        if claimed is None:
            return "skipped"
        row, attempt = claimed
        try:
            outcome = self.channels.send(row)
        except Exception as error:  # noqa: BLE001 - an adapter bug must delay the message, not lose it
            log.exception("delivery of notification %s raised", notification_id)
            outcome = Outcome("retry", f"{type(error).__name__}: {error}"[:2000])
        return self._record(notification_id, attempt, outcome)

    def _claim(self, notification_id: int) -> tuple[Notification, int] | None:
        now = self.clock.now()
        with self.db.session() as session:
            row = session.scalar(
                update(Notification)
                .where(
                    Notification.id == notification_id,
                    Notification.channel.in_(self.sendable),
                    or_(
                        and_(
                            Notification.status == "pending",
                            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
                        ),
                        and_(Notification.status == "sending", Notification.lease_until <= now),
                    ),
                )
                .values(
                    status="sending",
                    lease_until=now + timedelta(seconds=self.settings.delivery_lease_s),
                    attempts=Notification.attempts + 1,
                )
                .returning(Notification)
                .execution_options(synchronize_session=False, populate_existing=True)
            )
            if row is None:
                return None
            session.expunge(row)
            return row, row.attempts

    def backoff(self, attempt: int) -> timedelta:
        s = self.settings
        return timedelta(seconds=min(s.delivery_backoff_cap_s, s.delivery_backoff_s * 2 ** max(attempt - 1, 0)))

    def _record(self, notification_id: int, attempt: int, outcome: Outcome) -> str:
        now = self.clock.now()
        values: dict[str, Any] = {"lease_until": None, "provider_answer": outcome.provider_answer}
        status = outcome.status
        due: datetime | None = None
        if status == "sent":
            values.update(status="sent", sent_at=now, provider_message_id=outcome.provider_message_id, last_error=None)
        elif status == "retry" and attempt < self.settings.delivery_max_attempts:
            due = now + self.backoff(attempt)
            values.update(status="pending", next_attempt_at=due, last_error=outcome.provider_answer)
        else:
            if status == "retry":
                status = "failed"
                values["last_error"] = f"gave up after {attempt} attempts"
            values.update(status="failed", next_attempt_at=None)
        with self.db.session() as session:
            result = session.execute(
                update(Notification)
                .where(
                    Notification.id == notification_id,
                    Notification.status == "sending",
                    Notification.attempts == attempt,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) != 1:
                # Our lease ran out and another worker took the row over: its attempt is the one that counts.
                log.warning(
                    "notification %s: attempt %s lost its claim; outcome %s dropped", notification_id, attempt, status
                )
                return "superseded"
            if due is not None:
                after_commit(session, lambda: self.enqueue([notification_id], at=due))
        return status

    # -- recovery and admins ---------------------------------------------------------------------------
    def sweep(self, now: datetime) -> dict[str, int]:
        """Re-enqueue rows whose job was lost: pending past their due time plus the grace, or claimed by a
        worker whose lease ran out (killed mid-delivery)."""
        sendable = self.sendable
        if not sendable:
            return {"notifications": 0}
        with self.db.session() as session:
            due = func.coalesce(Notification.next_attempt_at, Notification.created_at)
            ids = list(
                session.scalars(
                    select(Notification.id).where(
                        Notification.channel.in_(sendable),
                        or_(
                            and_(Notification.status == "pending", due <= now - self.grace),
                            and_(Notification.status == "sending", Notification.lease_until <= now),
                        ),
                    )
                )
            )
        self.enqueue(ids)
        return {"notifications": len(ids)}

    def retry(self, session: Session, notification_id: int) -> bool:
        """An admin sends a failed row again (after fixing a number or a template): it is pending, due now."""
        result = session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.status == "failed")
            .values(status="pending", next_attempt_at=None, lease_until=None, attempts=0)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return False
        if session.scalar(select(Notification.channel).where(Notification.id == notification_id)) in self.sendable:
            after_commit(session, lambda: self.enqueue([notification_id]))
        return True


def build(
    db: Database,
    clock: Clock,
    queue: RqQueue | None,
    settings: NotificationSettings,
    redis: Any,
    grace: timedelta,
    files: FileStore | None = None,
) -> Delivery:
    delivery = Delivery(db, clock, queue, settings, Channels(settings, redis, files), grace)
    delivery.watch(db.sessionmaker)
    return delivery

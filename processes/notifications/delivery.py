"""Sending the outbox: delivery jobs that each carry a batch of rows, a claim before every provider call,
capped exponential backoff.

Why a job carries a batch, not one row: an rq job costs some twenty Redis round trips (queue, registries,
heartbeats) — about 12 ms here, twice the claim, the provider call and the record together — so one job per row
capped a worker near 80 messages a second.  A transaction that writes rows enqueues ONE job with their ids
(chunks of :data:`BATCH`); the job delivers them one after the other with exactly the per-row rules below, and a
row's retry, the sweeper's re-enqueue and an admin's "send again" are still jobs of their own.  A job that runs
past :data:`JOB_BUDGET_S` hands the ids it has not reached to a new job, so a slow provider never meets rq's job
timeout.

The guarantee, exactly (per row, as before):

* A row is sent only after this worker *claimed* it in the database (``pending`` -> ``sending`` with a lease,
  ``attempts`` + 1, committed) and its result is recorded only by the claim that sent it (the update matches
  ``attempts``).  Two jobs naming the same row (a re-enqueue by the sweeper, a duplicate in Redis) therefore never
  call the provider at the same time, and a row recorded ``sent`` is never sent again.  Within a job the record of
  one row and the claim of the next share a transaction (one commit per message, not two); still only the row
  being sent is ``sending``, so a crash leaves exactly one row in doubt, as with one job per row.
* ``retry`` (5xx, timeout, throttling, an unreadable answer) puts the row back to ``pending`` with
  ``next_attempt_at`` = now + backoff·2^(n-1) (capped) and schedules its job then; ``failed`` (a permanent
  refusal) keeps the provider's answer for the outbox page, where an admin can send it again.
* The one window we cannot close from our side is a crash after the provider accepted and before our commit:
  the lease runs out, the sweeper re-enqueues the row and it is sent again with the *same* provider-side
  de-duplication key (Aliyun ``OutId``, Tencent ``SessionContext``, WeChat ``client_msg_id``, the e-mail's
  ``Message-ID``, all derived from the row's idempotency key).  So: at least once to the provider, at most
  once per successful claim, and exactly once for the recipient wherever the provider de-duplicates on that key
  (WeChat does within 10 minutes; for SMS and SMTP the key lets receipts and mail clients match the copies).
* Nothing is lost: every row not yet ``sent`` or ``failed`` is found again by :meth:`Delivery.sweep` (pending
  past its due time plus the grace, or ``sending`` past its lease), which the worker's sweeper runs.

A row is an event (:mod:`.templates`): its text is rendered when it is sent, in the recipient's language at that
moment (the account's or the customer's current language), and the row keeps what was sent.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import and_, bindparam, event, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.db import Database, after_commit
from handlers.filestore import FileStore

from ..accounts.models import User
from ..customers.models import Customer
from . import process_texts, service
from .channels import Outcome, SmsMessage
from .models import Notification
from .service import WRITTEN
from .settings import NotificationSettings
from .templates import TEMPLATES, provider_values, render

log = logging.getLogger(__name__)
JOB = "processes.jobs.deliver_notifications"
BATCH = 100  # rows per delivery job
# What a claim reads back: all an adapter and the rendering need.
_SENT_WITH = ("id", "idempotency_key", "channel", "template", "params", "locale", "address", "subject", "body",
              "attempts", "recipient_user_id", "recipient_customer_id", "ticket_id")  # fmt: skip
JOB_BUDGET_S = 240.0  # a job claims no new row after this long: the rest go to a new job
JOB_TIMEOUT_S = 600  # rq's limit for one job: the budget plus one slow provider call, with room


class Sender(Protocol):
    def send(self, message: SmsMessage) -> Outcome: ...


class RqQueue(Protocol):
    """The two calls of an rq ``Queue`` delivery uses."""

    def enqueue(self, f: str, *args: Any, **kwargs: Any) -> Any: ...

    def enqueue_at(self, datetime: datetime, f: str, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Text:
    """A row as it is sent: the recipient's language now, the words and the provider template's values."""

    locale: str
    subject: str
    body: str
    values: dict[str, str]


class Channels:
    """The adapters this plant's settings configure, each built once per process on first use."""

    def __init__(self, settings: NotificationSettings, redis: Any, files: FileStore | None = None) -> None:
        self.settings = settings
        self.redis = redis
        self.files = files  # where e-mail attachments are read from (by hash)
        self.configured = settings.configured()
        self._adapters: dict[str, Any] = {}

    def adapter(self, channel: str) -> Any:
        if channel not in self._adapters:
            self._adapters[channel] = getattr(self, f"_build_{channel}")()
        return self._adapters[channel]

    def sms(self) -> Sender:
        return cast(Sender, self.adapter("sms"))

    def _build_sms(self) -> Sender:
        s = self.settings
        if s.sms_provider == "aliyun":
            from .channels.aliyun_sms import AliyunSms

            return AliyunSms(
                access_key_id=s.aliyun_access_key_id,
                access_key_secret=s.aliyun_access_key_secret,
                sign_name=s.sms_sign_name,
                endpoint=s.aliyun_endpoint,
                timeout_s=s.delivery_timeout_s,
            )
        from .channels.tencent_sms import TencentSms

        return TencentSms(
            secret_id=s.tencent_secret_id,
            secret_key=s.tencent_secret_key,
            sdk_app_id=s.tencent_sdk_app_id,
            sign_name=s.sms_sign_name,
            region=s.tencent_region,
            endpoint=s.tencent_endpoint,
            timeout=s.delivery_timeout_s,
        )

    def _build_wechat(self) -> Any:
        from .channels.wechat import WeChatTemplates

        s = self.settings
        return WeChatTemplates(
            appid=s.wechat_appid,
            secret=s.wechat_secret,
            cache=self.redis,
            endpoint=s.wechat_endpoint,
            timeout_s=s.delivery_timeout_s,
        )

    def _build_email(self) -> Any:
        from .channels.email import SmtpMail

        s = self.settings
        return SmtpMail(
            host=s.smtp_host,
            port=s.smtp_port,
            sender=s.smtp_sender,
            security=s.smtp_security,
            username=s.smtp_username,
            password=s.smtp_password,
            ca_file=s.smtp_ca_file,
            timeout_s=s.delivery_timeout_s,
        )

    def _provider_template(self, row: Notification, text: Text) -> tuple[str, str, dict[str, str]] | Outcome:
        """(spec, provider template id, its parameters) for an SMS or WeChat row, or why it cannot be sent."""
        setting = f"{row.channel}_templates"
        spec = getattr(self.settings, setting).get(row.template)
        if not spec:
            name = "SMS" if row.channel == "sms" else "WeChat"
            return Outcome("failed", f"no {name} template id configured for {row.template!r} ({setting})")
        values = {**text.values, "subject": text.subject, "body": text.body}
        template_id, params = provider_params(spec, values, exclude=("subject", "body"))
        return spec, template_id, params

    def send(self, row: Notification, text: Text | None = None) -> Outcome:
        """One provider call for one outbox row, in the words of ``text`` (the row's stored text if none)."""
        text = text or Text(row.locale, row.subject, row.body, {k: str(v) for k, v in (row.params or {}).items()})
        address = row.address or ""
        if row.channel in ("sms", "wechat"):
            found = self._provider_template(row, text)
            if isinstance(found, Outcome):
                return found
            spec, template_id, params = found
            if row.channel == "sms":
                return self.sms().send(SmsMessage(address, template_id, params, row.idempotency_key))
            if ":" not in spec:
                params = {"first": text.subject, **params, "remark": text.body}
            return self.adapter("wechat").send(
                openid=address, template_id=template_id, data=params, idempotency_key=row.idempotency_key
            )
        if row.channel == "email":
            from .channels.email import AttachmentError, attachment_of

            spec = (row.params or {}).get("attachment")
            try:
                attachments = [attachment_of(spec, self.files)] if isinstance(spec, dict) else []
            except AttachmentError as error:
                return Outcome("failed", str(error)[:2000])
            return self.adapter("email").send(
                to=address,
                subject=text.subject,
                text=text.body,
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


_TABLE = Notification.__table__
_CLAIM = (
    update(_TABLE)
    .where(
        _TABLE.c.id == bindparam("row_id"),
        _TABLE.c.channel.in_(bindparam("sendable", expanding=True)),
        or_(
            and_(
                _TABLE.c.status == "pending",
                or_(_TABLE.c.next_attempt_at.is_(None), _TABLE.c.next_attempt_at <= bindparam("now")),
            ),
            and_(_TABLE.c.status == "sending", _TABLE.c.lease_until <= bindparam("now")),
        ),
    )
    .values(status="sending", lease_until=bindparam("claimed_until"), attempts=_TABLE.c.attempts + 1)
    .returning(*(_TABLE.c[name] for name in _SENT_WITH))
)


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
        """One job per :data:`BATCH` ids.  Best effort: a row whose job never reaches Redis is found by the sweeper."""
        if self.queue is None:
            return
        for first in range(0, len(ids), BATCH):
            chunk = list(ids[first : first + BATCH])
            try:
                # The rows are the record of what happened: rq need not keep the job's result.
                if at is None:
                    self.queue.enqueue(JOB, chunk, job_timeout=JOB_TIMEOUT_S, result_ttl=0)
                else:
                    self.queue.enqueue_at(at, JOB, chunk, job_timeout=JOB_TIMEOUT_S, result_ttl=0)
            except Exception as error:  # noqa: BLE001 - Redis away: the sweep re-enqueues from the database
                log.warning("could not enqueue delivery of notifications %s: %s", chunk, error)

    # -- the job ----------------------------------------------------------------------------------------
    def deliver(self, notification_id: int) -> str:
        """Claim, send, record one row.  Returns what happened (for the job's result and the tests)."""
        return self.deliver_batch([notification_id])[0][1]

    def deliver_batch(self, ids: list[int]) -> list[tuple[int, str]]:
        """Deliver the rows ``ids`` names, one after the other, each claimed before it is sent; return each id
        with what became of it (``skipped`` when it was not due or not ours).

        The record of one row and the claim of the next are one transaction.  Ids not reached within
        :data:`JOB_BUDGET_S` are handed to a new job.
        """
        waiting = list(dict.fromkeys(ids))
        started = time.monotonic()
        results: list[tuple[int, str]] = []
        with self.db.session() as session:
            readers = self._readers(session, waiting)
            wordings = service.wordings(session)
            processes = process_texts.for_notifications(session, waiting)
        sent: tuple[int, int, Outcome, Text] | None = None
        while True:
            claimed = None
            with self.db.session() as session:
                if sent is not None:
                    results.append((sent[0], self._record(session, *sent)))
                while waiting and claimed is None and time.monotonic() - started < JOB_BUDGET_S:
                    row_id = waiting.pop(0)
                    claimed = self._claim(session, row_id)
                    if claimed is None:
                        results.append((row_id, "skipped"))
            if claimed is None:
                break
            row, attempt = claimed
            text = Text(row.locale, row.subject, row.body, {})  # what the row says, should rendering fail
            try:
                text = self._text(row, readers.get(row.id) or row.locale, wordings, processes.get(row.id))
                outcome = self.channels.send(row, text)
            except Exception as error:  # noqa: BLE001 - a rendering or adapter bug delays the message, never loses it
                log.exception("delivery of notification %s raised", row.id)
                outcome = Outcome("retry", f"{type(error).__name__}: {error}"[:2000])
            sent = (row.id, attempt, outcome, text)
        if waiting:
            self.enqueue(waiting)
        return results

    def _readers(self, session: Session, ids: list[int]) -> dict[int, str]:
        """Each row's recipient's language now: the account's or the customer's (a switch since is honoured)."""
        query = (
            select(Notification.id, User.locale, Customer.locale)
            .outerjoin(User, User.id == Notification.recipient_user_id)
            .outerjoin(Customer, Customer.id == Notification.recipient_customer_id)
            .where(Notification.id.in_(ids))
        )
        return {row_id: user or customer for row_id, user, customer in session.execute(query) if user or customer}

    def _text(
        self, row: Notification, locale: str, wordings: service.Wordings, process: process_texts.Texts | None = None
    ) -> Text:
        if row.template not in TEMPLATES:  # written with its own text (the weekly report)
            values = {k: str(v) for k, v in (row.params or {}).items() if k != "attachment"}
            return Text(row.locale, row.subject, row.body, values)
        wording = process_texts.choose(process, wordings, row.template, locale)
        subject, body = render(row.template, row.params or {}, locale, wording)
        return Text(locale, subject, body, provider_values(row.template, row.params or {}, locale))

    def _claim(self, session: Session, notification_id: int) -> tuple[Notification, int] | None:
        """``pending`` (due) or ``sending`` past its lease -> ``sending``, ours, with ``attempts`` + 1.

        One prepared Core statement (:data:`_CLAIM`), not an ORM one: the row is read back once (RETURNING) into a
        detached :class:`Notification`, which is all the adapters need; building the statement and the ORM's
        bulk-update machinery cost more than the SQL itself, once per message.
        """
        now = self.clock.now()
        found = session.execute(
            _CLAIM,
            {
                "row_id": notification_id,
                "sendable": list(self.sendable),
                "now": now,
                "claimed_until": now + timedelta(seconds=self.settings.delivery_lease_s),
            },
        ).one_or_none()
        if found is None:
            return None
        row = Notification(**dict(found._mapping))
        return row, row.attempts

    def backoff(self, attempt: int) -> timedelta:
        s = self.settings
        return timedelta(seconds=min(s.delivery_backoff_cap_s, s.delivery_backoff_s * 2 ** max(attempt - 1, 0)))

    def _record(self, session: Session, notification_id: int, attempt: int, outcome: Outcome, text: Text) -> str:
        now = self.clock.now()
        values: dict[str, Any] = {
            "lease_until": None,
            "provider_answer": outcome.provider_answer,
            # What was sent, in the language it was sent in (the outbox page shows it).
            "locale": text.locale,
            "subject": text.subject[:200],
            "body": text.body,
        }
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
        table = Notification.__table__
        result = session.execute(
            update(table)
            .where(table.c.id == notification_id, table.c.status == "sending", table.c.attempts == attempt)
            .values(**values)
        )
        if getattr(result, "rowcount", 0) != 1:
            # Our lease ran out and another worker took the row over: its attempt is the one that counts.
            log.warning(
                "notification %s: attempt %s lost its claim; outcome %s dropped", notification_id, attempt, status
            )
            return "superseded"
        if due is not None:
            retry_at = due
            after_commit(session, lambda: self.enqueue([notification_id], at=retry_at))
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

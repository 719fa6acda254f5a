"""The customer's service confirmation: rendered, stored, attached, journaled, versioned and signed.

Rendering is :mod:`handlers.documents.confirmation` (pure); this module gathers the ticket's facts in the
customer's language, keeps the versions and records the signature.  A version is never rewritten: when the
facts a PDF shows change, the next rendering is the next version, so a signed copy always names the exact
bytes the customer reviewed (its SHA-256 is stamped on it and journaled), and the customer sees which
version they signed and whether a newer one waits.

The lifecycle renders version 1 from a service task (``confirmation_pdf``, an rq job outside the instance
lock); the engine journals the task's result, which carries the PDF's hash.  An agent's regeneration and
the customer's signature are journaled as annotations on the same hash chain.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.messages.mofile import read_mo
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.handlers import HandlerContext, HandlerRegistry
from engine.runtime import ProcessEngine
from handlers.documents import confirmation as pdf
from handlers.filestore import FileStore

from ..errors import Conflict, FieldProblem, Invalid
from ..platform_paths import TRANSLATIONS
from ..tickets.links import CustomerLinks
from ..tickets.models import Attachment, Ticket
from ..tickets.service_tasks import ticket_for
from .models import ConfirmationDocument
from .settings import DocumentSettings

OPERATOR = "confirmation_pdf"
FIELD = "confirmation_pdf"
SIGNED_FIELD = "confirmation_signed"
# A drawn signature is a few kilobytes of PNG; anything far larger is not one (and is refused unread).
MAX_SIGNATURE_CHARS = 300_000
MAX_SIGNATURE_SIDE = 4000
MAX_SIGNER_CHARS = 60
PNG_DATA_URL = "data:image/png;base64,"


class _Catalog:
    """The compiled catalogue as a plain lookup.  Not ``gettext``'s classes: they compile the plural rule
    with ``exec``, and this runs inside a lifecycle handler, where no code is compiled at all
    (``tests/engine/test_no_python.py``); the document has no plural forms."""

    def __init__(self, messages: dict[str, str]) -> None:
        self.messages = messages

    def gettext(self, text: str) -> str:
        return self.messages.get(text) or text


@lru_cache(maxsize=4)
def _translations(locale: str) -> _Catalog:
    if locale == "en":
        return _Catalog({})
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        catalog = read_mo(fh)
    return _Catalog({str(m.id): str(m.string) for m in catalog if isinstance(m.id, str) and m.string})


def _lang(locale: str) -> str:
    return "en" if locale == "en" else "zh-Hans"


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Confirmations:
    """The confirmation service: one per platform, built in ``build_platform`` and shared with the handler."""

    files: FileStore
    links: CustomerLinks
    portal_url: str
    settings: DocumentSettings
    timezone: str
    clock: Clock

    # -- reading -------------------------------------------------------------------------------------
    def versions(self, session: Session, ticket: Ticket) -> list[ConfirmationDocument]:
        query = select(ConfirmationDocument).where(ConfirmationDocument.ticket_id == ticket.id)
        return list(session.scalars(query.order_by(ConfirmationDocument.version)))

    def latest(self, session: Session, ticket: Ticket) -> ConfirmationDocument | None:
        query = select(ConfirmationDocument).where(ConfirmationDocument.ticket_id == ticket.id)
        return session.scalar(query.order_by(ConfirmationDocument.version.desc()).limit(1))

    def version(self, session: Session, ticket: Ticket, number: int) -> ConfirmationDocument | None:
        query = select(ConfirmationDocument).where(
            ConfirmationDocument.ticket_id == ticket.id, ConfirmationDocument.version == number
        )
        return session.scalar(query)

    def portal_link(self, ticket: Ticket) -> str:
        return f"{self.portal_url.rstrip('/')}/c/{self.links.token(ticket)}"

    # -- what the PDF shows --------------------------------------------------------------------------
    def _local(self, when: datetime | None) -> str:
        return when.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M") if when else ""

    def facts(self, ticket: Ticket) -> tuple[str, list[tuple[str, str]]]:
        """(locale, the labelled facts in the customer's language); the content a version is keyed by."""
        locale = "en" if ticket.customer.locale == "en" else "zh_Hans"
        t = _translations(locale).gettext
        if ticket.accepted_at and ticket.response_due_at and ticket.response_due_at > ticket.accepted_at:
            window = f"{self._local(ticket.accepted_at)} – {self._local(ticket.response_due_at)}"
        elif ticket.response_due_at:
            window = t("by %(time)s") % {"time": self._local(ticket.response_due_at)}
        else:
            window = t("to be agreed by phone")
        engineer = ticket.engineer
        facts = [
            (t("Ticket number"), ticket.number),
            (t("Customer"), ticket.customer.name),
            (t("Site"), f"{ticket.site.name} · {ticket.site.address}"),
            (t("Problem"), ticket.problem_description[:300]),
            (t("Appointment window"), window),
            (t("Engineer"), f"{engineer.name} · {engineer.phone}" if engineer else t("not assigned yet")),
        ]
        if ticket.device is not None:
            facts.insert(3, (t("Device"), f"{ticket.device.model} · {ticket.device.serial}"))
        return locale, facts

    def _content_hash(self, ticket: Ticket, locale: str, facts: list[tuple[str, str]]) -> str:
        # The link's nonce, not its token: a token carries its signing time, a new link a new nonce.
        letterhead = json.dumps([self.settings.company_zh, self.settings.company_en, self.settings.phone])
        body = json.dumps([locale, facts, ticket.customer_link_nonce, letterhead], ensure_ascii=False)
        return _hash(body.encode())

    def _letterhead(self, locale: str) -> pdf.Letterhead:
        s = self.settings
        logo = s.logo.read_bytes() if s.logo is not None and s.logo.is_file() else None
        if locale == "en":
            return pdf.Letterhead(s.company_en, s.address_en, s.phone, logo)
        return pdf.Letterhead(s.company_zh, s.address_zh, s.phone, logo)

    def render(self, ticket: Ticket, version: int) -> tuple[bytes, str, str]:
        """(PDF bytes, locale, content hash) of ``ticket``'s confirmation as ``version``."""
        locale, facts = self.facts(ticket)
        t = _translations(locale).gettext
        doc = pdf.Confirmation(
            lang=_lang(locale),
            title=t("Service confirmation"),
            letterhead=self._letterhead(locale),
            facts=facts,
            portal_url=self.portal_link(ticket),
            labels={
                "qr": t("Scan to follow your repair"),
                "signature": t("Customer signature"),
                "version": t("Version"),
                "generated": t("Generated"),
            },
            version=version,
            generated=self._local(self.clock.now()),
        )
        return pdf.render(doc), locale, self._content_hash(ticket, locale, facts)

    # -- writing -------------------------------------------------------------------------------------
    def generate(
        self, session: Session, ticket: Ticket, *, actor: str, task_key: str | None = None
    ) -> tuple[ConfirmationDocument, bool]:
        """The ticket's current confirmation, rendering a new version only if its facts changed;
        (version, whether it is new).  A retried job (same ``task_key``) finds the version it wrote."""
        if task_key is not None:
            done = session.scalar(select(ConfirmationDocument).where(ConfirmationDocument.task_key == task_key))
            if done is not None:
                return done, False
        session.refresh(ticket, with_for_update=True)  # one writer of versions per ticket at a time
        latest = self.latest(session, ticket)
        locale, facts = self.facts(ticket)
        if latest is not None and latest.content_hash == self._content_hash(ticket, locale, facts):
            return latest, False
        number = latest.version + 1 if latest else 1
        data, locale, content_hash = self.render(ticket, number)
        key = self.files.put(data)
        now = self.clock.now()
        doc = ConfirmationDocument(
            ticket_id=ticket.id,
            version=number,
            sha256=key,
            content_hash=content_hash,
            locale=locale,
            task_key=task_key,
            created_by=actor,
            created_at=now,
        )
        session.add(doc)
        self._attach(session, ticket, key, len(data), FIELD, f"{ticket.number}-confirmation-v{number}.pdf", actor)
        session.flush()
        return doc, True

    def regenerate(self, session: Session, engine: ProcessEngine, ticket: Ticket, *, actor: str) -> dict[str, Any]:
        """An agent's one click: a new version if the facts changed (journaled), else the current one."""
        doc, new = self.generate(session, ticket, actor=actor)
        if new and ticket.process_instance_id is not None:
            engine.annotate(
                session,
                ticket.process_instance_id,
                "document_generated",
                actor=actor,
                data={"document": "confirmation", "version": doc.version, "sha256": doc.sha256},
            )
        return {"version": doc.version, "sha256": doc.sha256, "new": new}

    def sign(
        self,
        session: Session,
        engine: ProcessEngine,
        ticket: Ticket,
        *,
        version: Any,
        signer: Any,
        signature: Any,
        ip: str,
    ) -> ConfirmationDocument:
        """Stamp the customer's signature on ``version`` (which must be the current, unsigned one).

        Every refusal is an :class:`Invalid` or :class:`Conflict` naming the field; nothing is written then.
        """
        name = signer.strip() if isinstance(signer, str) else ""
        problems = []
        if not name:
            problems.append(FieldProblem("signer_name", "required"))
        elif len(name) > MAX_SIGNER_CHARS:
            problems.append(FieldProblem("signer_name", "max_length", {"limit": MAX_SIGNER_CHARS, "actual": len(name)}))
        png, code = _signature_png(signature)
        if code is not None:
            problems.append(FieldProblem("signature", code, {"limit": MAX_SIGNATURE_CHARS}))
        if problems:
            raise Invalid("invalid_input", problems=problems)
        assert png is not None
        try:
            number = int(version)
        except (TypeError, ValueError):
            raise Invalid("invalid_input", problems=[FieldProblem("version", "document_version_unknown")]) from None
        session.refresh(ticket, with_for_update=True)  # two signing requests at once: one wins, one is refused
        doc = self.version(session, ticket, number)
        latest = self.latest(session, ticket)
        if doc is None or latest is None:
            raise Invalid("invalid_input", problems=[FieldProblem("version", "document_version_unknown")])
        if doc.signed_at is not None:
            raise Conflict("document_already_signed", version=doc.version)
        if doc.version != latest.version:
            raise Conflict("document_outdated", version=doc.version, latest=latest.version)
        original = self.files.get(doc.sha256)
        now = self.clock.now()
        t = _translations(doc.locale).gettext
        mark = pdf.Stamp(
            lang=_lang(doc.locale),
            labels={
                "title": t("Signed by the customer"),
                "signer": t("Signer"),
                "time": t("Time"),
                "ip": t("IP address"),
                "sha256": t("SHA-256 of the document signed"),
                "version": t("Version"),
            },
            signer=name,
            signed_at=self._local(now),
            ip=ip[:45],
            sha256=_hash(original),
            version=doc.version,
            signature_png=png,
        )
        signed = pdf.signed(original, mark)
        signed_key = self.files.put(signed)
        signature_key = self.files.put(png)
        doc.signed_sha256, doc.signature_sha256 = signed_key, signature_key
        doc.signer_name, doc.signer_ip, doc.signed_at = name, ip[:45], now
        self._attach(
            session,
            ticket,
            signed_key,
            len(signed),
            SIGNED_FIELD,
            f"{ticket.number}-confirmation-v{doc.version}-signed.pdf",
            "customer",
        )
        if ticket.process_instance_id is not None:
            engine.annotate(
                session,
                ticket.process_instance_id,
                "document_signed",
                actor="customer",
                data={
                    "document": "confirmation",
                    "version": doc.version,
                    "sha256": doc.sha256,
                    "signed_sha256": signed_key,
                    "signature_sha256": signature_key,
                    "signer": name,
                    "ip": ip[:45],
                },
            )
        session.flush()
        return doc

    def _attach(self, session: Session, ticket: Ticket, key: str, size: int, field: str, name: str, by: str) -> None:
        session.add(
            Attachment(
                ticket_id=ticket.id,
                sha256=key,
                kind="document",
                content_type="application/pdf",
                size=size,
                original_name=name,
                field=field,
                task_spec=None,
                uploaded_by=by,
                meta={},
                created_at=self.clock.now(),
            )
        )

    # -- the service task ----------------------------------------------------------------------------
    def handler(self, ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
        assert ctx.session is not None
        ticket = ticket_for(ctx, params["ticket_id"])
        doc, _new = self.generate(ctx.session, ticket, actor="engine", task_key=ctx.idempotency_key)
        return {"version": doc.version, "sha256": doc.sha256}


def _signature_png(value: Any) -> tuple[bytes | None, str | None]:
    """The drawn signature's PNG bytes, or the refusal code: empty, too large, not a PNG data URL, blank."""
    if not isinstance(value, str) or not value.strip():
        return None, "signature_required"
    if len(value) > MAX_SIGNATURE_CHARS:
        return None, "signature_too_large"
    if not value.startswith(PNG_DATA_URL):
        return None, "signature_format"
    try:
        data = base64.b64decode(value[len(PNG_DATA_URL) :], validate=True)
    except (binascii.Error, ValueError):
        return None, "signature_format"
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != "PNG" or max(probe.size) > MAX_SIGNATURE_SIDE:
                return None, "signature_format"
            image = probe.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None, "signature_format"
    # A pad that was never drawn on exports a fully transparent (or all-white) picture.
    alpha = image.getchannel("A").getextrema()[1]
    darkest = min(image.convert("L").getextrema()[0], 255)
    if alpha == 0 or darkest > 240:
        return None, "signature_required"
    return data, None


def register(registry: HandlerRegistry, confirmations: Confirmations) -> None:
    registry.register(
        OPERATOR,
        confirmations.handler,
        inputs=("ticket_id",),
        runs="job",
        description="Render the customer's service confirmation as a PDF and attach it to the ticket",
    )

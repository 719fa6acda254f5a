"""Channel adapters: each speaks one provider's documented protocol, signatures included.

An adapter turns one message into one provider call and says what became of it, as an
:class:`Outcome` the delivery job can act on without knowing the provider: ``sent`` (with the
provider's message id), ``retry`` (the provider is down, slow or throttling: try again later, nothing
was delivered as far as we can know) or ``failed`` (a permanent refusal such as a bad number or an
unapproved template: retrying cannot help).  The provider's own answer is kept verbatim for the
admins' outbox page.  Adapters know no database and no Flask; settings come in through their
constructor, so tests point them at local servers on 127.0.0.1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["sent", "retry", "failed"]


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt achieved, in provider-neutral terms."""

    status: Status
    provider_answer: str
    provider_message_id: str | None = None


@dataclass(frozen=True)
class SmsMessage:
    """A templated text: SMS providers in China send only pre-approved templates with parameters."""

    phone: str  # E.164, e.g. +8613800138000
    template_id: str
    params: dict[str, str]
    idempotency_key: str

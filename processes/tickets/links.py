"""Signed, expiring links through which a customer follows and accepts their ticket without an account.

The token names the ticket and the ticket's link nonce; rotating the nonce revokes every link sent
before, and the signature's age bounds how long a forwarded message stays useful.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from ..errors import Forbidden, NotFound
from .models import Ticket


@dataclass
class CustomerLinks:
    secret: str
    max_age_s: int = 30 * 24 * 3600

    @property
    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt="customer-ticket-link")

    def token(self, ticket: Ticket) -> str:
        return self._serializer.dumps({"t": ticket.id, "n": ticket.customer_link_nonce})

    def resolve(self, session: Session, token: str) -> Ticket:
        try:
            payload = self._serializer.loads(token, max_age=self.max_age_s)
        except SignatureExpired as err:
            raise Forbidden("link_expired", status=403) from err
        except BadSignature as err:
            raise NotFound("link_invalid") from err
        ticket = session.get(Ticket, payload.get("t"))
        if ticket is None:
            raise NotFound("link_invalid")
        if ticket.customer_link_nonce != payload.get("n"):
            raise Forbidden("link_revoked")
        return ticket

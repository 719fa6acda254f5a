"""What a reviewer needs beside the flags (issue 10, "Supervisors"): where a re-used photo came from, every
before/after pair the ticket's close-outs produced, and the ticket a recurrence reopens.

The comparison stores a re-used photo's hits as file hashes (``photo_reused``: ``keys``); the perceptual
hash index knows which ticket each one was stored for, so the flag can name and link that ticket.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..tickets.models import Ticket
from .models import EvidenceComparison, PhotoHash


@dataclass(frozen=True)
class ReusedPhoto:
    which: str  # "before" or "after": the photo of this close-out that was seen before
    ticket_number: str  # the other ticket it was stored for


@dataclass(frozen=True)
class ReviewFacts:
    pairs: list[EvidenceComparison]  # every comparison of the ticket, oldest first (rework rounds)
    reused: dict[int, list[ReusedPhoto]]  # comparison id -> where its re-used photos came from


def review_facts(session: Session, ticket: Ticket) -> ReviewFacts:
    pairs = list(
        session.scalars(
            select(EvidenceComparison).where(EvidenceComparison.ticket_id == ticket.id).order_by(EvidenceComparison.id)
        )
    )
    hits = {
        comparison.id: [
            (str(f["params"].get("which", "")), [str(k) for k in f["params"].get("keys") or []])
            for f in comparison.findings or []
            if f.get("code") == "photo_reused" and isinstance(f.get("params"), dict)
        ]
        for comparison in pairs
    }
    keys = {key for found in hits.values() for _, ks in found for key in ks}
    owners = (
        dict(
            session.execute(
                select(PhotoHash.sha256, Ticket.number)
                .join(Ticket, Ticket.id == PhotoHash.ticket_id)
                .where(PhotoHash.sha256.in_(keys), PhotoHash.ticket_id != ticket.id)
            ).all()
        )
        if keys
        else {}
    )
    reused: dict[int, list[ReusedPhoto]] = {}
    for comparison_id, found in hits.items():
        seen = []
        for which, ks in found:
            for number in dict.fromkeys(owners[k] for k in ks if k in owners):
                seen.append(ReusedPhoto(which, number))
        if seen:
            reused[comparison_id] = seen
    return ReviewFacts(pairs, reused)


def reopened_by(session: Session, ticket: Ticket) -> str | None:
    """The earlier ticket whose 7-day watch this ticket ended (its ``recurred_by`` names this one)."""
    return session.scalar(select(Ticket.number).where(Ticket.recurred_by == ticket.number).order_by(Ticket.id).limit(1))

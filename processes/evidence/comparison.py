"""The close-out's automatic before/after comparison (brief E2), bound to the database and file store.

It runs as an rq job outside the instance lock (``runs="job"``): decoding and comparing 12-megapixel
photos takes most of a second.  Its findings, the overlay marking changed regions and the photos'
perceptual hashes are stored in the job's own transaction together with its result, so a worker killed
halfway leaves nothing behind and the retried job stores it once (keyed by the service task's id).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.handlers import HandlerContext, HandlerError, HandlerRegistry
from handlers.evidence.compare import CompareContext, NamedRegion, compare
from handlers.evidence.context import as_regions
from handlers.evidence.errors import MediaRejected
from handlers.evidence.phash import phash_from_hex
from handlers.filestore import FileStore, KeyNotFound

from ..tickets.models import Ticket
from ..tickets.service_tasks import ticket_for
from .models import DeviceModelTemplate, EvidenceComparison, PhotoHash


class StoredPhotoIndex:
    """The perceptual-hash index over every evidence photo ever stored, read in one vectorised scan."""

    def __init__(self, session: Session, ticket_id: int, now: Any) -> None:
        self.session, self.ticket_id, self.now = session, ticket_id, now
        rows = session.execute(select(PhotoHash.sha256, PhotoHash.phash).where(PhotoHash.ticket_id != ticket_id)).all()
        self.keys = [key for key, _ in rows]
        self.hashes = np.array([phash_from_hex(h) for _, h in rows], dtype=np.uint64)

    def near(self, phash: int, max_distance: int) -> list[str]:
        if not self.keys:
            return []
        distances = np.unpackbits((self.hashes ^ np.uint64(phash)).view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)
        order = np.argsort(distances, kind="stable")
        return [self.keys[i] for i in order if distances[i] <= max_distance]

    def add(self, key: str, phash: int) -> None:
        if self.session.get(PhotoHash, key) is None:
            self.session.add(
                PhotoHash(sha256=key, phash=f"{phash:016x}", ticket_id=self.ticket_id, created_at=self.now)
            )


def latest_comparison(session: Session, ticket: Ticket) -> EvidenceComparison | None:
    """The ticket's most recent photo comparison (a returned close-out is compared again)."""
    return session.scalar(
        select(EvidenceComparison)
        .where(EvidenceComparison.ticket_id == ticket.id)
        .order_by(EvidenceComparison.id.desc())
        .limit(1)
    )


def _reference(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.startswith("sha256:"):
        raise HandlerError(f"{field} is not a stored photo reference")
    return value.removeprefix("sha256:")


def context_for(
    session: Session, ticket: Ticket, taps: list[Any] | None, index: StoredPhotoIndex, timezone: str
) -> CompareContext:
    """What we know about the pair: the ticket's time and site, and where lamps and plates are."""
    template = session.get(DeviceModelTemplate, ticket.device.model) if ticket.device else None
    lamps = as_regions(template.lamp_regions if template else []) + as_regions(taps or [])
    ocr = as_regions(template.ocr_regions if template else [])
    if ticket.device is not None:
        ocr = [
            NamedRegion(r.name, r.box, r.kind, ticket.device.serial if r.kind == "serial" else r.expected) for r in ocr
        ]
    return CompareContext(
        ticket_created_at=ticket.created_at,
        site=(ticket.site.lat, ticket.site.lon),
        lamp_regions=lamps,
        ocr_regions=ocr,
        index=index,
        timezone=timezone,
    )


def make_handler(files: FileStore, timezone: str) -> Any:
    def compare_evidence(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
        assert ctx.session is not None
        existing = ctx.session.scalar(select(EvidenceComparison).where(EvidenceComparison.task_key == ctx.task_id))
        if existing is not None:  # a retried job: the comparison is already stored
            return {"needs_review": existing.needs_review, "comparison_id": existing.id}
        ticket = ticket_for(ctx, params["ticket_id"])
        before, after = _reference(params["before"], "before"), _reference(params["after"], "after")
        index = StoredPhotoIndex(ctx.session, ticket.id, ctx.now)
        try:
            report = compare(
                files.get(before),
                files.get(after),
                context_for(ctx.session, ticket, params.get("lamp_taps"), index, timezone),
            )
        except KeyNotFound as err:
            raise HandlerError(f"a photo of the comparison is not in the file store: {err}") from err
        except MediaRejected as err:
            raise HandlerError(f"a photo cannot be compared: {err.code}") from err
        index.add(before, phash_from_hex(report.phash_before))
        index.add(after, phash_from_hex(report.phash_after))
        findings = list(report.to_json()["findings"]) + arrival_findings(ticket)
        needs_review = report.needs_review or any(f["severity"] == "flag" for f in findings)
        row = EvidenceComparison(
            ticket_id=ticket.id,
            task_key=ctx.task_id,
            before_sha256=before,
            after_sha256=after,
            needs_review=needs_review,
            findings=findings,
            overlay_key=files.put(report.overlay_png) if report.overlay_png else None,
            timings_ms=report.to_json()["timings_ms"],
            created_at=ctx.now,
        )
        ctx.session.add(row)
        ctx.session.flush()
        return {
            "needs_review": needs_review,
            "comparison_id": row.id,
            "flags": sorted({str(f["code"]) for f in findings if f["severity"] == "flag"}),
        }

    return compare_evidence


# An arrival this far from the site's coordinates goes to a supervisor's evidence review (issue 10): the
# engineer may have been elsewhere, or the address on file is wrong; either needs a person's look.
# The same limit as a photo taken away from the site (handlers.evidence.context gps_max_m).
ARRIVAL_REVIEW_M = 1000.0


def arrival_findings(ticket: Ticket) -> list[dict[str, Any]]:
    """A flag when the engineer's arrival location was farther from the site than :data:`ARRIVAL_REVIEW_M`."""
    distance = ticket.on_site_distance_m
    if distance is None or distance <= ARRIVAL_REVIEW_M:
        return []
    params = {"distance_m": round(distance), "limit_m": round(ARRIVAL_REVIEW_M)}
    return [
        {
            "check": "provenance",
            "severity": "flag",
            "code": "arrival_far_from_site",
            "score": 1.0,
            "params": params,
            "regions": [],
        }
    ]


def register(registry: HandlerRegistry, files: FileStore, timezone: str) -> None:
    """``timezone`` is the plant's: phone EXIF times usually carry no offset."""
    registry.register(
        "compare_evidence",
        make_handler(files, timezone),
        inputs=("ticket_id", "before", "after"),
        optional_inputs=("lamp_taps",),
        runs="job",
        description="Compare the fault photo with the after-repair photo and flag what looks wrong",
    )

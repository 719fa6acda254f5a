"""The spare-parts catalogue: admins add parts and switch them off; the close-out form's ``parts_used``
rows pick from the active ones (``"x-options": "spare_parts"``), so the catalogue changes without a new
deployment and the desk refuses a part that is unknown or switched off, naming its row.

A part is never deleted: tickets that used it keep naming it (:func:`used_on`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import JournalEvent

from ..errors import NotFound
from ..tickets.models import Ticket
from ..tickets.options import Option, OptionSources
from ..validation import Checker
from .models import SparePart

SOURCE = "spare_parts"  # the name forms give the catalogue in "x-options"
PARTS_FIELD = "parts_used"  # the close-out field holding {part, quantity} rows
CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._/-]*"


def catalogue(session: Session) -> list[SparePart]:
    return list(session.scalars(select(SparePart).order_by(SparePart.code)))


def options(session: Session) -> list[Option]:
    """The parts an engineer may pick: active ones, labelled "name (code)" in each language."""
    rows = session.scalars(select(SparePart).where(SparePart.active.is_(True)).order_by(SparePart.code))
    return [Option(p.code, f"{p.name_en} ({p.code})", f"{p.name_zh}（{p.code}）") for p in rows]


def register_options(sources: OptionSources) -> None:
    sources.register(SOURCE, options)


def save_part(session: Session, values: Mapping[str, Any], code: str | None = None) -> SparePart:
    """Create a part (``code`` None) or change the names, unit and active flag of part ``code``; every
    field is checked before anything is written."""
    row = session.get(SparePart, code) if code is not None else None
    if code is not None and row is None:
        raise NotFound("not_found")
    check = Checker(values)
    new_code = check.text("code", max_length=60, pattern=CODE_PATTERN) if row is None else row.code
    name_en = check.text("name_en")
    name_zh = check.text("name_zh")
    unit = check.text("unit", max_length=20)
    active = check.flag("active")
    if row is None:
        check.unique("code", new_code, list(session.scalars(select(SparePart.code))))
    check.done()
    if row is None:
        row = SparePart(code=new_code)
        session.add(row)
    row.name_en, row.name_zh, row.unit, row.active = name_en, name_zh, unit, active
    session.flush()
    return row


@dataclass(frozen=True)
class PartUsed:
    code: str
    quantity: int
    name_en: str
    name_zh: str
    unit: str

    def name(self, zh: bool) -> str:
        return self.name_zh if zh else self.name_en


def used_on(session: Session, ticket: Ticket) -> list[PartUsed]:
    """The parts the ticket's last close-out recorded (its process data, as the instance's journal holds
    the submitted form), with names from the catalogue; a ticket whose process has no parts list has none."""
    if ticket.process_instance_id is None:
        return []
    submissions = session.scalars(
        select(JournalEvent.input)
        .where(JournalEvent.instance_id == ticket.process_instance_id, JournalEvent.kind == "user_task_completed")
        .order_by(JournalEvent.seq.desc())
    )
    rows: list[Any] = next(
        (
            s["data"][PARTS_FIELD]
            for s in submissions
            if isinstance((s or {}).get("data"), dict) and PARTS_FIELD in s["data"]
        ),
        [],
    )
    rows = [r for r in rows if isinstance(r, dict) and isinstance(r.get("part"), str)]
    known = {p.code: p for p in session.scalars(select(SparePart).where(SparePart.code.in_([r["part"] for r in rows])))}
    used = []
    for row in rows:
        part = known.get(row["part"])
        used.append(
            PartUsed(
                row["part"],
                int(row.get("quantity") or 0),
                part.name_en if part else row["part"],
                part.name_zh if part else row["part"],
                part.unit if part else "",
            )
        )
    return used

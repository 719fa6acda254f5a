"""The root-cause library: seeding, the close-out form's options, usage counts and supervisors' edits.

The close-out form names its choices by source (``"x-options": "root_causes"``), so adding or switching
off a cause here changes what engineers can pick without deploying a new form, and the desk refuses a
code that is not (or no longer) active.  Every save validates all fields before it writes, so a refused
edit leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..tickets.models import Ticket
from ..tickets.options import Option, OptionSources
from ..validation import Checker
from .models import CATEGORIES, RootCause

OPTION_SOURCE = "root_causes"
# Codes are stored on tickets and carried in JSON and URLs.
CODE_PATTERN = r"[a-z0-9][a-z0-9_]*"

# The seven causes the close-out form listed before the library existed: (code, English, Chinese, category).
# migrations/versions/0005 inserts the same rows into installations that already have tickets.
SEED = (
    ("design_margin", "Design margin too small", "设计余量不足", "design"),
    ("supplier_material", "Supplier material defect", "供应商材料缺陷", "supplier_material"),
    ("customer_misoperation", "Customer misoperation", "客户误操作", "customer_operation"),
    ("spare_part_missing", "Spare part missing", "备件缺货", "spare_parts"),
    ("drawing_error", "Drawing error", "图纸错误", "drawing"),
    ("installation", "Installation", "安装问题", "installation"),
    ("wear", "Normal wear", "正常磨损", "wear"),
)


def seed(session: Session) -> int:
    """Add the seven standard causes that are missing; returns how many were added (idempotent)."""
    known = set(session.scalars(select(RootCause.code)))
    added = 0
    for code, name_en, name_zh, category in SEED:
        if code not in known:
            session.add(RootCause(code=code, name_en=name_en, name_zh=name_zh, category=category, active=True))
            added += 1
    session.flush()
    return added


def active_options(session: Session) -> list[Option]:
    """What an engineer may choose now, in the library's order (oldest first, as the form listed them)."""
    rows = session.scalars(select(RootCause).where(RootCause.active.is_(True)).order_by(RootCause.id))
    return [Option(r.code, r.name_en, r.name_zh) for r in rows]


def register_options(options: OptionSources) -> None:
    """Make the library the ``root_causes`` choice source of forms."""
    options.register(OPTION_SOURCE, active_options)


def causes(session: Session) -> list[RootCause]:
    return list(session.scalars(select(RootCause).order_by(RootCause.active.desc(), RootCause.id)))


def names(session: Session, zh: bool) -> dict[str, str]:
    """Every cause's name by code, switched-off ones included: old tickets still read as words."""
    return {r.code: r.name(zh) for r in session.scalars(select(RootCause))}


def usage_counts(session: Session) -> dict[str, int]:
    """How many tickets name each code as their root cause."""
    query = select(Ticket.root_cause, func.count()).where(Ticket.root_cause.is_not(None)).group_by(Ticket.root_cause)
    return {code: count for code, count in session.execute(query)}


def get(session: Session, code: str) -> RootCause:
    row = session.scalar(select(RootCause).where(RootCause.code == code))
    if row is None:
        raise NotFound("not_found")
    return row


def save(session: Session, values: Mapping[str, Any], code: str | None = None) -> RootCause:
    """Create a cause (``code`` None) or change the names, category and active flag of cause ``code``.

    The code is fixed once created: tickets and journals refer to it.  Names must be unique per
    language, or two entries in the engineer's list would read the same.
    """
    row = get(session, code) if code is not None else None
    check = Checker(values)
    new_code = (
        check.text("code", max_length=60, pattern=CODE_PATTERN, pattern_code="code_format") if row is None else row.code
    )
    name_en = check.text("name_en", max_length=120)
    name_zh = check.text("name_zh", max_length=120)
    category = check.choice("category", CATEGORIES)
    active = check.flag("active") if row is not None else True
    others = [r for r in session.scalars(select(RootCause)) if row is None or r.id != row.id]
    if row is None and not check.has_problem("code"):
        check.unique("code", new_code, [r.code for r in others])
    if not check.has_problem("name_en"):
        check.unique("name_en", name_en, [r.name_en for r in others])
    if not check.has_problem("name_zh"):
        check.unique("name_zh", name_zh, [r.name_zh for r in others])
    check.done()
    if row is None:
        row = RootCause(code=new_code)
        session.add(row)
    row.name_en, row.name_zh, row.category, row.active = name_en, name_zh, category, active
    session.flush()
    return row


def set_active(session: Session, code: str, active: bool) -> RootCause:
    """Switch a cause off (engineers can no longer choose it; old tickets keep its name) or on again."""
    row = get(session, code)
    row.active = active
    session.flush()
    return row

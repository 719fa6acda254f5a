"""The problem code: a ticket's fault category, which recurrence matches on (issue 14).

Found at intake from the same managed tables the dispatcher reads (``processes.dispatch``): the skill
tags that the fault keywords of the problem description point to, sorted and joined with "+"
("coolant system", "FANUC+spindle"); when no keyword matches, the device type ("cnc_lathe"); with no
device either, ``unclassified``.  The agent may give one at intake (a ``problem_code`` form field) and
the engineer may correct it at close-out; every change is a ``problem_code_set`` KPI event.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers import dispatch

from ..dispatch import roster
from ..dispatch.models import DeviceTypeSkills, Skill
from ..tickets.options import Option

UNCLASSIFIED = "unclassified"
MAX_LENGTH = 60


def derive(resolver: dispatch.JobSkillResolver, device_type: str | None, description: str) -> str:
    job = dispatch.Ticket(
        id="problem-code",
        site=dispatch.GeoPoint(0.0, 0.0),
        urgency=dispatch.Urgency("blue"),
        device_type=device_type,
        description=description,
    )
    fault = sorted(resolver.resolve(job).fault_skills)
    if fault:
        return "+".join(fault)[:MAX_LENGTH]
    return (device_type or UNCLASSIFIED)[:MAX_LENGTH]


def for_intake(session: Session, device_type: str | None, description: str) -> str:
    return derive(roster.resolver(session), device_type, description)


def options(session: Session) -> list[Option]:
    """The codes an agent or engineer may choose: fault skills, device types, unclassified."""
    found = [Option(s.tag, s.name_en, s.name_zh) for s in session.scalars(select(Skill).order_by(Skill.tag))]
    found += [
        Option(d.device_type, d.name_en, d.name_zh)
        for d in session.scalars(select(DeviceTypeSkills).order_by(DeviceTypeSkills.device_type))
    ]
    return [*found, Option(UNCLASSIFIED, "Unclassified", "未分类")]

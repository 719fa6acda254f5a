"""What was typed at intake beyond the fields every ticket has, for the staff ticket page.

A process's intake form may ask more than the domain keeps in columns (the consumer after-sales template
asks the purchase date, the receipt number, the warranty and the address details); the intake keeps those
answers in ``ticket.extra``.  They are shown titled by the form of the deployment the ticket's instance
runs on, in the reader's language, choices by their titles — so a field an owner adds shows up without code.
Registered as a template global by the ``tickets`` blueprint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext

from processes.tickets.intake_answers import intake_form_of
from processes.tickets.models import Ticket

from .context import db, platform
from .i18n import enum_titles, schema_text


@dataclass(frozen=True)
class IntakeFact:
    name: str
    title: str
    value: str


def intake_facts(ticket: Ticket) -> list[IntakeFact]:
    """The intake form's answers kept with the ticket, in the form's order; none when nothing extra was typed."""
    extra = ticket.extra or {}
    if not extra or ticket.process_instance_id is None:
        return []
    schema = intake_form_of(db(), platform().engine, ticket)
    properties = schema.get("properties") if schema else None
    facts = []
    for name, node in (properties if isinstance(properties, dict) else {}).items():
        value = extra.get(name)
        if value is None or value == "" or isinstance(value, dict | list) or not isinstance(node, dict):
            continue
        facts.append(IntakeFact(name, schema_text(node) or name, _shown(node, value)))
    return facts


def _shown(node: dict[str, Any], value: object) -> str:
    if "enum" in node:
        titles = dict(zip([str(v) for v in node["enum"]], enum_titles(node), strict=False))
        return titles.get(str(value), str(value))
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    return str(value)

"""The spare parts a ticket used, for the staff ticket page (issue 12 §4).

The parts catalogue itself is one of the admin catalogues (``webui.admin.catalogue``: list, add,
switch off); this is the reading side, registered as a template global by the admin blueprint."""

from __future__ import annotations

from processes.maintenance.parts import PartUsed, used_on
from processes.tickets.models import Ticket

from ..context import db


def parts_used(ticket: Ticket) -> list[PartUsed]:
    """What the ticket's last close-out recorded; empty for a process without a parts list."""
    return used_on(db(), ticket)

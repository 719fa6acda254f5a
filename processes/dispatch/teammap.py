"""What the team map shows: engineers (home, current position, service radius, status, load) and the
sites of open tickets.  Plain data, so the JSON endpoint and tests read the same thing the map draws.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..engineers.models import Engineer
from ..tickets.models import Ticket
from .roster import booked_today

# One colour per status, shared by the markers, the radius circles and the legend.
STATUS_COLOURS = {"idle": "#2e7d32", "en_route": "#1565c0", "repairing": "#ef6c00", "full": "#c62828"}


def team_map(session: Session, now: datetime, timezone: str) -> dict[str, Any]:
    """Engineers and open tickets with coordinates; labels are added by the web layer."""
    booked = booked_today(session, now, timezone)
    engineers = [
        {
            "id": row.id,
            "name": row.name,
            "group": row.group,
            "status": row.status,
            "colour": STATUS_COLOURS.get(row.status, "#607d8b"),
            "home": [row.home_lat, row.home_lon],
            "current": (
                [row.current_lat, row.current_lon]
                if row.current_lat is not None and row.current_lon is not None
                else None
            ),
            "radius_km": row.radius_km,
            "daily_capacity": row.daily_capacity,
            "booked_today": booked.get(row.id, 0),
            "skills": dict(sorted(row.skills.items())),
        }
        for row in session.scalars(select(Engineer).order_by(Engineer.name))
    ]
    rows = session.scalars(
        select(Ticket)
        .options(joinedload(Ticket.site), joinedload(Ticket.customer), joinedload(Ticket.engineer))
        .where(Ticket.closed_at.is_(None))
        .order_by(Ticket.created_at)
    )
    tickets = [
        {
            "number": t.number,
            "urgency": t.urgency,
            "status": t.status,
            "customer": t.customer.name,
            "site": t.site.name,
            "region": t.site.region,
            "position": [t.site.lat, t.site.lon],
            "engineer": t.engineer.name if t.engineer is not None else None,
        }
        for t in rows
    ]
    return {"engineers": engineers, "tickets": tickets}

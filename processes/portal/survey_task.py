"""The satisfaction survey asked by a process (a customer task), recorded where the portal's survey is kept.

A process made from the consumer after-sales template asks the customer for 1–5 stars as a user task on
their link, after they accepted the repair; its ``record_satisfaction`` service task copies the answer into
:class:`~.models.SatisfactionSurvey`, so the staff ticket page, the customer's page and the satisfaction
KPI read one place whichever way the customer answered.  The form has already checked the answer; the
service layer (:func:`.survey.answer`) checks it again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.handlers import HandlerContext, HandlerError, HandlerRegistry
from engine.models import ProcessInstance
from engine.runtime import ProcessEngine

from ..errors import Conflict, Invalid
from ..tickets.models import Ticket
from ..tickets.service_tasks import ticket_for
from . import survey

OPERATOR = "record_satisfaction"


def record_satisfaction(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """Store the survey answer once; an answer already given on the portal's own form is kept."""
    assert ctx.session is not None
    ticket = ticket_for(ctx, params["ticket_id"])
    try:
        row = survey.answer(ctx.session, ticket, params["rating"], params.get("comment"), ctx.now)
    except Conflict as err:
        if err.code == "survey_already_answered":
            return {"recorded": False, "reason": err.code}
        raise HandlerError(f"the survey cannot be recorded: {err.code}") from err
    except Invalid as err:
        raise HandlerError(f"the survey answer is refused: {[p.field for p in err.problems]}") from err
    return {"recorded": True, "stars": row.stars}


def asked_by_process(session: Session, engine: ProcessEngine, ticket: Ticket) -> bool:
    """Whether the ticket's process asks the survey itself (it records satisfaction in a service task): the
    portal's own survey form then stays away, so the customer is asked once, and not again after the
    process's survey closed unanswered."""
    instance = session.get(ProcessInstance, ticket.process_instance_id) if ticket.process_instance_id else None
    if instance is None:
        return False
    return any(e.operator == OPERATOR for e in engine.elements(session, instance).elements.values())


def register(registry: HandlerRegistry) -> None:
    registry.register(
        OPERATOR,
        record_satisfaction,
        inputs=("ticket_id", "rating"),
        optional_inputs=("comment",),
        description="Record the customer's 1–5 satisfaction answer on the ticket",
    )

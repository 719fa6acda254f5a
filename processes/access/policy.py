"""The one authorization policy: role × action × the ticket's relation to the one asking.

Pages (``webui``) and the JSON API ask :func:`decide` (or filter with :func:`visible_tickets`) before
they read or change anything, so a rule is written once and both surfaces refuse alike.  The rules are a
table (:data:`RULES`): for each action, the roles it admits and, for ticket actions, the relations a role
needs to the ticket.  Anything not in the table is refused — a new action has to be added here first.

An engineer's relation to a ticket (:class:`Relation`) comes from the offers: the ticket offered or
assigned to them now, offered to them before (declined, timed out, moved), opened by them, or offered
right now to another engineer of their group (whom they may stand in for).  Other staff roles read
every ticket; a customer holding a ticket's signed link reaches that ticket only.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, exists, false, or_, select, true
from sqlalchemy.orm import Session, aliased

from engine.api import UserTaskView

from ..accounts.models import ROLES, User
from ..engineers.models import Engineer
from ..incidents import SKIP_ROLES, VIEW_ROLES
from ..tickets.models import Offer, Ticket

ASSIGNEE_PROPERTY = "assignee"
CUSTOMER = "customer"


@dataclass(frozen=True)
class Actor:
    """Someone acting: a staff user, or a customer holding a ticket's link."""

    user: User | None = None
    customer_ticket_id: int | None = None
    customer_ticket_number: str | None = None

    @property
    def role(self) -> str:
        return CUSTOMER if self.user is None else self.user.role

    @property
    def label(self) -> str:
        """The journal's ``actor``: a username, or ``customer:T-…``-style for link holders."""
        return self.user.username if self.user is not None else f"customer:{self.customer_ticket_number}"


class Action(StrEnum):
    TICKET_LIST = "ticket.list"
    TICKET_CREATE = "ticket.create"
    TICKET_VIEW = "ticket.view"
    TICKET_VIEW_CONTACT = "ticket.view_contact"
    TICKET_ROTATE_LINK = "ticket.rotate_link"
    TICKET_CONFIRMATION = "ticket.confirmation"
    TICKET_PROBLEM_CODE = "ticket.problem_code"
    CUSTOMER_CONTACTS = "customer.contacts"
    TASK_VIEW = "task.view"
    TASK_COMPLETE = "task.complete"
    FILE_VIEW = "file.view"
    INBOX_VIEW = "inbox.view"
    PROFILE_SELF = "profile.self"
    INCIDENT_VIEW = "incident.view"
    INCIDENT_SKIP = "incident.skip"
    ADMIN_MANAGE = "admin.manage"
    ACCOUNT_MANAGE = "account.manage"
    LIBRARY_MANAGE = "library.manage"
    SURVEY_ANSWER = "survey.answer"
    AUDIT_VIEW = "audit.view"
    ACCESS_LOG_VIEW = "audit.access_log"
    HEATMAP_VIEW = "audit.heatmap"
    OVERVIEW_VIEW = "overview.view"
    TICKET_REASSIGN = "ticket.reassign"
    PROCESS_EDIT = "process.edit"
    TICKET_MANAGE = "ticket.manage"


class Relation(StrEnum):
    ASSIGNED = "assigned"  # offered or assigned to this engineer now
    WAS_OFFERED = "was_offered"  # offered to this engineer before
    CREATED = "created"  # opened by this user
    GROUP_OFFER = "group_offer"  # offered right now to another engineer of this engineer's group
    LINK = "link"  # the customer holding this ticket's link
    NONE = "none"


class _Any:
    """Any relation (or no ticket at all)."""

    def __contains__(self, _relation: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()
STAFF = ROLES
READERS = ("agent", "supervisor", "process_owner", "auditor", "admin")
ENGINEER_SEES = frozenset({Relation.ASSIGNED, Relation.WAS_OFFERED, Relation.CREATED, Relation.GROUP_OFFER})
# Reading a ticket is needed for every other ticket action: the reader's rules, and the link's ticket.
_READ: dict[str, Any] = {**dict.fromkeys(READERS, ANY), "engineer": ENGINEER_SEES, CUSTOMER: {Relation.LINK}}

RULES: Mapping[Action, Mapping[str, Any]] = {
    Action.TICKET_LIST: dict.fromkeys(STAFF, ANY),
    # Owners, auditors and admins watch the process; they do not take customers' calls.
    Action.TICKET_CREATE: dict.fromkeys(("agent", "supervisor", "engineer"), ANY),
    Action.TICKET_VIEW: _READ,
    # The customer's name and phone: those who talk to customers, and the engineer the job is with now.
    Action.TICKET_VIEW_CONTACT: {
        **dict.fromkeys(("agent", "supervisor", "admin"), ANY),
        "engineer": {Relation.ASSIGNED, Relation.CREATED},
    },
    Action.TICKET_ROTATE_LINK: dict.fromkeys(("agent", "supervisor"), ANY),
    # Regenerating the customer's confirmation PDF (a new version if the facts changed): the desk.
    Action.TICKET_CONFIRMATION: dict.fromkeys(("agent", "supervisor"), ANY),
    # The problem code (recurrence matches on it): the agent at the desk and the supervisor correct it;
    # the engineer corrects it in the close-out form (a task, under TASK_COMPLETE).
    Action.TICKET_PROBLEM_CODE: dict.fromkeys(("agent", "supervisor"), ANY),
    # The customer directory's phone numbers (the intake form's customer list): not for engineers.
    Action.CUSTOMER_CONTACTS: dict.fromkeys(("agent", "supervisor", "admin"), ANY),
    Action.TASK_VIEW: _READ,
    Action.TASK_COMPLETE: _READ,  # and the task's own lane and assignee: see may_complete
    Action.FILE_VIEW: _READ,
    Action.INBOX_VIEW: dict.fromkeys(STAFF, ANY),
    Action.PROFILE_SELF: {"engineer": ANY},
    Action.INCIDENT_VIEW: dict.fromkeys(VIEW_ROLES, ANY),  # and retry them (processes.incidents)
    Action.INCIDENT_SKIP: dict.fromkeys(SKIP_ROLES, ANY),
    Action.ADMIN_MANAGE: dict.fromkeys(("admin", "supervisor"), ANY),
    # Staff accounts (issue 10): creating logins, resetting passwords and deactivating is the administrator's.
    Action.ACCOUNT_MANAGE: {"admin": ANY},
    Action.LIBRARY_MANAGE: dict.fromkeys(("admin", "supervisor"), ANY),
    # The satisfaction survey (issue 11 §3): only the holder of the ticket's own link answers it.
    Action.SURVEY_ANSWER: {CUSTOMER: {Relation.LINK}},
    # Issue 13: replaying a ticket's journal; every such view is itself on the access log.
    Action.AUDIT_VIEW: dict.fromkeys(("auditor", "admin", "supervisor", "process_owner"), ANY),
    Action.ACCESS_LOG_VIEW: {"admin": ANY},
    # Issue 13 part B: the process heat map and its event-log export, read by those who audit the process.
    Action.HEATMAP_VIEW: dict.fromkeys(("auditor", "admin", "supervisor", "process_owner"), ANY),
    # the supervisors' "at risk now" overview and moving an accepted ticket to another engineer (issue 10)
    Action.OVERVIEW_VIEW: dict.fromkeys(("supervisor", "admin"), ANY),
    Action.TICKET_REASSIGN: {"supervisor": ANY},
    # Issue 12: the process editor — the process list, drafts, validate, deploy; owners and admins only.
    Action.PROCESS_EDIT: dict.fromkeys(("process_owner", "admin"), ANY),
    # The desk's housekeeping (issue 10, agents): cancel, merge a duplicate, edit contact/description/urgency.
    Action.TICKET_MANAGE: dict.fromkeys(("agent", "supervisor", "admin"), ANY),
}

# Roles that read everything and change nothing (issue 13): every request that could write is refused
# them before any view runs (see :func:`may_write`), whatever a route's own rule says.
READ_ONLY_ROLES = frozenset({"auditor"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def may_write(role: str | None, method: str) -> Refusal | None:
    """None unless ``role`` is read-only and ``method`` could change something."""
    if role in READ_ONLY_ROLES and method.upper() not in SAFE_METHODS:
        return Refusal("forbidden")
    return None


@dataclass(frozen=True)
class Refusal:
    """Why not: a message code (``webui.messages``) and the HTTP status (401: log in first)."""

    code: str
    status: int = 403


LOGIN_FIRST = Refusal("login_required", 401)


def roles_for(action: Action) -> tuple[str, ...]:
    """The roles an action admits at all (for gates that close a whole area, and for navigation)."""
    return tuple(role for role in RULES[action] if role != CUSTOMER)


def admits(role: str | None, roles: Collection[str]) -> Refusal | None:
    """The area check: no one logged in is asked to log in; another role is refused."""
    if role is None:
        return LOGIN_FIRST
    return None if role in roles else Refusal("forbidden")


def decide(session: Session, who: Actor | User | None, action: Action, ticket: Ticket | None = None) -> Refusal | None:
    """None if ``who`` may do ``action`` (on ``ticket``), else the refusal."""
    actor = _actor(who)
    if actor is None:
        return LOGIN_FIRST
    allowed = RULES[action].get(actor.role)
    if allowed is None:
        return Refusal("forbidden")
    if allowed is ANY:
        return None
    if ticket is None:
        return Refusal("forbidden")
    if relation_of(session, actor, ticket) in allowed:
        return None
    return Refusal("ticket_not_yours")


def decide_task(
    session: Session, who: Actor | User | None, action: Action, view: UserTaskView, ticket: Ticket
) -> Refusal | None:
    """:func:`decide` for a user task: viewing needs the ticket; completing (and, for a customer's link,
    viewing) also the task's lane and assignee (:func:`may_complete`), checked before any input is read."""
    refused = decide(session, who, action, ticket)
    actor = _actor(who)
    # A link holder sees only the tasks of the Customer lane, not the engineer's forms.
    lane_matters = action is Action.TASK_COMPLETE or (actor is not None and actor.user is None)
    if refused is None and lane_matters and actor is not None:
        code = may_complete(session, actor, view, ticket)
        if code is not None:
            return Refusal(code)
    return refused


def may(session: Session, who: Actor | User | None, action: Action, ticket: Ticket | None = None) -> bool:
    return decide(session, who, action, ticket) is None


def relation_of(session: Session, who: Actor | User, ticket: Ticket) -> Relation:
    """How ``who`` stands to ``ticket``; the strongest relation when several hold."""
    actor = _actor(who)
    assert actor is not None
    if actor.user is None:
        return Relation.LINK if actor.customer_ticket_id == ticket.id else Relation.NONE
    if actor.role != "engineer":
        return Relation.CREATED if ticket.created_by_id == actor.user.id else Relation.NONE
    me = session.scalar(select(Engineer).where(Engineer.user_id == actor.user.id))
    if me is not None and ticket.engineer_id == me.id:
        return Relation.ASSIGNED
    if ticket.created_by_id == actor.user.id:
        return Relation.CREATED
    if me is None:
        return Relation.NONE
    if session.scalar(select(Offer.id).where(Offer.ticket_id == ticket.id, Offer.engineer_id == me.id).limit(1)):
        return Relation.WAS_OFFERED
    if session.scalar(select(Offer.id).where(Offer.ticket_id == ticket.id, _group_open_offer(me.group)).limit(1)):
        return Relation.GROUP_OFFER
    return Relation.NONE


def visible_tickets(who: Actor | User | None) -> ColumnElement[bool]:
    """A WHERE clause on :class:`Ticket`: the tickets ``who`` may view, decided in the query (lists)."""
    actor = _actor(who)
    if actor is None:
        return false()
    if actor.user is None:
        return Ticket.id == actor.customer_ticket_id
    allowed = RULES[Action.TICKET_VIEW].get(actor.role)
    if allowed is None:
        return false()
    if allowed is ANY:
        return true()
    mine = select(Engineer.id).where(Engineer.user_id == actor.user.id).scalar_subquery()
    my_group = select(Engineer.group).where(Engineer.user_id == actor.user.id).scalar_subquery()
    return or_(
        Ticket.engineer_id == mine,
        Ticket.created_by_id == actor.user.id,
        exists().where(Offer.ticket_id == Ticket.id, Offer.engineer_id == mine),
        exists().where(Offer.ticket_id == Ticket.id, _group_open_offer(my_group)),
    )


def _group_open_offer(group: Any) -> ColumnElement[bool]:
    """An Offer still unanswered, to an engineer of ``group`` (a name or a scalar subquery)."""
    peer = aliased(Engineer)
    return Offer.outcome.is_(None) & Offer.engineer_id.in_(select(peer.id).where(peer.group == group))


def may_complete(session: Session, actor: Actor, view: UserTaskView, ticket: Ticket) -> str | None:
    """None if ``actor`` may complete the user task ``view`` of ``ticket``, else the refusal code.

    The lane of a task says which roles may act (``bpmn_models/lanes.json``); a task whose ``assignee``
    property is ``ticket_engineer`` is only for the engineer the ticket is offered or assigned to; the
    Customer lane is only for the holder of that ticket's signed link."""
    if actor.user is None:
        return None if CUSTOMER in view.roles and actor.customer_ticket_id == ticket.id else "not_your_task"
    if actor.role not in view.roles:
        return "wrong_role"
    if view.properties.get(ASSIGNEE_PROPERTY) == "ticket_engineer" and actor.role == "engineer":
        engineer = session.get(Engineer, ticket.engineer_id) if ticket.engineer_id else None
        if engineer is None or engineer.user_id != actor.user.id:
            return "not_your_ticket"
    return None


def _actor(who: Actor | User | None) -> Actor | None:
    if who is None or isinstance(who, Actor):
        return who
    if not getattr(who, "is_authenticated", False):
        return None
    return Actor(user=who)

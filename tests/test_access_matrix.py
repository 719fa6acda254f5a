"""Every route × every role and relation, against a table written here (issue 15 §1).

The world: ticket A offered to one engineer (``eng_on``), with a photo and a comparison overlay;
another engineer of the same group (``eng_group``, who sees A through the group's open offer); an
engineer of another group with no offer on A (``eng_off``); one account per other role; ticket B, whose
customer link (``customer_other``) must not reach A.  Every route of ``app.url_map`` is requested by
every principal — pages with a logged-in session, ``/api/`` with the principal's bearer token — and
the outcome (ok, login, forbidden, missing, invalid, …) is compared with :data:`TABLE`.

A route with no row fails the test, so a new route cannot slip in unreviewed.  POSTs carry a CSRF
token and no (or empty) input: a principal the gate lets through meets the form's refusal
("invalid"), one it stops is refused before any input is read.  ``bench.authz`` walks the same table.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from sqlalchemy import select
from support import bearer, csrf_token, device_with_candidates, drain, jpeg, login, open_ticket, snapshot

from processes.accounts.models import User
from processes.customers.models import Customer
from processes.engineers.models import Engineer
from processes.evidence.models import EvidenceComparison
from processes.tickets.attachments import Upload
from processes.tickets.models import Offer, Ticket

# -- principals ------------------------------------------------------------------------------------

STAFF = ("agent", "eng_on", "eng_off", "eng_group", "supervisor", "owner", "auditor", "admin")
ENGINEERS = ("eng_on", "eng_off", "eng_group")
CUSTOMERS = ("customer_this", "customer_other")
PRINCIPALS = ("anonymous", *STAFF, *CUSTOMERS)
READERS = ("agent", "supervisor", "owner", "auditor", "admin")  # see every ticket
SEES_A = (*READERS, "eng_on", "eng_group")

# Outcomes, from the status code (see :func:`outcome`).
OK, LOGIN, FORBIDDEN, MISSING, INVALID, THROTTLED, ERROR = (
    "ok",
    "login",
    "forbidden",
    "missing",
    "invalid",
    "throttled",
    "error",
)


def row(default: str, **cells: str | tuple[str, ...]) -> dict[str, str]:
    """One table row: ``default`` for every principal, then groups: ``ok=("agent", "admin")``."""
    outcomes = dict.fromkeys(PRINCIPALS, default)
    for result, who in cells.items():
        for principal in (who,) if isinstance(who, str) else who:
            outcomes[principal] = result
    return outcomes


def staff_page(allowed: tuple[str, ...], result: str = OK) -> dict[str, str]:
    """A page behind the login: strangers and link holders are sent to log in, other staff refused."""
    return row(FORBIDDEN, login=("anonymous", *CUSTOMERS), **{result: allowed})


def api(allowed: tuple[str, ...], result: str = OK, others: str = FORBIDDEN) -> dict[str, str]:
    """An API route: no token (customers have none) is a 401."""
    return row(others, login=("anonymous", *CUSTOMERS), **{result: allowed})


EVERYONE = row(OK)
ADMINS = ("supervisor", "admin")  # the admin area and the root-cause library
INCIDENTS = ("owner", "admin")
KPI_READERS = ("supervisor", "admin", "owner", "auditor")
AUDITORS = ("auditor", "admin", "supervisor", "owner")
INTAKE = ("agent", "supervisor", *ENGINEERS)
EDITORS = ("owner", "admin")  # the process editor (issue 12)

# (method, rule) → principal → outcome.  Routes other helpers add during the session get rows too.
TABLE: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/"): EVERYONE,  # a redirect to the inbox or to the login page
    ("GET", "/static/<path:filename>"): EVERYONE,
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): row(LOGIN),  # no password: 401 for everyone
    ("POST", "/logout"): row(OK, login=("anonymous", *CUSTOMERS)),
    ("POST", "/lang/<code>"): EVERYONE,
    # tickets
    ("GET", "/tickets"): staff_page(STAFF),
    ("GET", "/tickets/new"): staff_page(INTAKE),
    ("POST", "/tickets/new"): staff_page(INTAKE, INVALID),
    ("GET", "/tickets/<number>"): staff_page(SEES_A),
    ("POST", "/tickets/<number>/customer-link"): staff_page(("agent", "supervisor")),
    ("POST", "/tickets/<number>/customer-link/send"): staff_page(("agent", "supervisor")),
    ("POST", "/tickets/<number>/confirmation"): staff_page(("agent", "supervisor"), INVALID),  # A is not accepted
    ("POST", "/tickets/<number>/problem-code"): staff_page(("agent", "supervisor"), INVALID),
    ("GET", "/tickets/<number>/diagram"): staff_page(SEES_A),
    # the desk (issue 10, agents): the device list of a customer; cancel, merge and edit, each refused empty
    ("GET", "/tickets/devices.json"): staff_page(INTAKE, INVALID),  # no customer_id given
    ("POST", "/tickets/<number>/cancel"): staff_page(("agent", "supervisor", "admin"), INVALID),
    ("POST", "/tickets/<number>/merge"): staff_page(("agent", "supervisor", "admin"), INVALID),
    ("POST", "/tickets/<number>/edit"): staff_page(("agent", "supervisor", "admin"), INVALID),
    ("GET", "/tickets/<number>/comparisons/<int:comparison_id>/overlay.png"): staff_page(SEES_A),
    ("GET", "/files/<sha256>"): staff_page(SEES_A),
    # tasks: A's open task is the engineer's accept_offer
    ("GET", "/tasks"): staff_page(STAFF),
    ("GET", "/tasks/<task_id>"): staff_page(SEES_A),
    ("POST", "/tasks/<task_id>"): staff_page(("eng_on",), INVALID),
    ("POST", "/tasks/<task_id>/draft"): staff_page(("eng_on",)),  # the form's draft: whoever may complete it
    ("POST", "/tasks/my-status"): staff_page(ENGINEERS, INVALID),
    ("POST", "/tasks/my-position"): staff_page(ENGINEERS, INVALID),
    # the customer's link: staff and strangers hold no link (a made-up one is "missing")
    ("GET", "/c/<token>"): row(MISSING, ok=CUSTOMERS),
    ("GET", "/c/<token>/files/<sha256>"): row(MISSING, ok="customer_this"),
    # the confirmation to sign: not made before an engineer accepts (no PDF yet), an empty form refused
    ("GET", "/c/<token>/confirmation"): row(MISSING, ok=CUSTOMERS),
    ("POST", "/c/<token>/confirmation"): row(MISSING, invalid=CUSTOMERS),
    ("GET", "/c/<token>/confirmation.pdf"): row(MISSING),
    ("GET", "/c/<token>/progress"): row(MISSING, ok=CUSTOMERS),
    ("POST", "/c/<token>/survey"): row(MISSING, invalid=CUSTOMERS),  # both tickets are not yet accepted
    ("GET", "/c/<token>/tasks/<task_id>"): row(MISSING, forbidden="customer_this"),
    ("POST", "/c/<token>/tasks/<task_id>"): row(MISSING, forbidden="customer_this"),
    # the JSON API, with each principal's bearer token
    ("GET", "/api/v1/openapi.json"): EVERYONE,
    ("POST", "/api/v1/tickets"): api(INTAKE, INVALID),
    ("GET", "/api/v1/tickets/<number>"): api(SEES_A),
    ("GET", "/api/v1/tasks"): api(STAFF),
    ("GET", "/api/v1/tasks/<task_id>"): api(SEES_A),
    ("POST", "/api/v1/tasks/<task_id>/complete"): api(("eng_on",), INVALID),
    ("POST", "/api/v1/uploads"): api(("eng_on",), INVALID),
    ("GET", "/api/v1/uploads/<upload_id>"): api(STAFF, MISSING, MISSING),
    ("PUT", "/api/v1/uploads/<upload_id>"): api(STAFF, MISSING, MISSING),
    ("POST", "/api/v1/uploads/<upload_id>/finish"): api(STAFF, MISSING, MISSING),
    # incidents: owners and admins; skipping for admins only
    ("GET", "/incidents"): staff_page(INCIDENTS),
    ("POST", "/incidents/<int:incident_id>/retry"): staff_page(INCIDENTS, MISSING),
    ("POST", "/incidents/<int:incident_id>/skip"): staff_page(("admin",), INVALID),  # the reason first
    # the admin area: supervisors and admins
    ("GET", "/admin"): staff_page(ADMINS),
    ("GET", "/admin/engineers"): staff_page(ADMINS),
    ("GET", "/admin/engineers/new"): staff_page(ADMINS),
    ("POST", "/admin/engineers/new"): staff_page(ADMINS, INVALID),
    ("GET", "/admin/engineers/<int:engineer_id>"): staff_page(ADMINS),
    ("POST", "/admin/engineers/<int:engineer_id>"): staff_page(ADMINS, INVALID),
    ("GET", "/admin/map"): staff_page(ADMINS),
    ("GET", "/admin/map.json"): staff_page(ADMINS),
    ("GET", "/admin/declines"): staff_page(ADMINS),
    ("GET", '/admin/<any("skills", "groups", "device-types", "keywords", "spare-parts"):kind>'): staff_page(ADMINS),
    ("GET", '/admin/<any("skills", "groups", "device-types", "keywords", "spare-parts"):kind>/new'): staff_page(ADMINS),
    ("POST", '/admin/<any("skills", "groups", "device-types", "keywords", "spare-parts"):kind>/new'): staff_page(
        ADMINS, INVALID
    ),
    ("GET", '/admin/<any("skills", "groups", "device-types", "keywords", "spare-parts"):kind>/edit'): staff_page(
        ADMINS, MISSING
    ),
    ("POST", '/admin/<any("skills", "groups", "device-types", "keywords", "spare-parts"):kind>/edit'): staff_page(
        ADMINS, MISSING
    ),
    ("POST", "/admin/keywords/delete"): staff_page(ADMINS, MISSING),
    # the directory (issue 10): supervisors and admins; staff accounts: administrators only
    ("GET", "/admin/customers"): staff_page(ADMINS),
    ("GET", "/admin/customers/new"): staff_page(ADMINS),
    ("POST", "/admin/customers/new"): staff_page(ADMINS, INVALID),
    ("GET", "/admin/customers/<int:customer_id>"): staff_page(ADMINS),
    ("POST", "/admin/customers/<int:customer_id>"): staff_page(ADMINS, INVALID),
    ("GET", "/admin/customers/<int:customer_id>/sites/new"): staff_page(ADMINS),
    ("POST", "/admin/customers/<int:customer_id>/sites/new"): staff_page(ADMINS, INVALID),
    ("GET", "/admin/sites/<int:site_id>"): staff_page(ADMINS),
    ("POST", "/admin/sites/<int:site_id>"): staff_page(ADMINS, INVALID),
    ("GET", "/admin/devices"): staff_page(ADMINS),
    ("GET", "/admin/devices/new"): staff_page(ADMINS),
    ("POST", "/admin/devices/new"): staff_page(ADMINS, INVALID),
    ("GET", "/admin/devices/labels"): staff_page(ADMINS),
    ("GET", "/admin/devices/<int:device_id>"): staff_page(ADMINS),
    ("POST", "/admin/devices/<int:device_id>"): staff_page(ADMINS, INVALID),
    ("GET", "/admin/devices/<int:device_id>/qr.png"): staff_page(ADMINS),
    ("GET", "/admin/import"): staff_page(ADMINS),
    ("POST", "/admin/import"): staff_page(ADMINS, INVALID),
    ("GET", "/admin/accounts"): staff_page(("admin",)),
    ("GET", "/admin/accounts/new"): staff_page(("admin",)),
    ("POST", "/admin/accounts/new"): staff_page(("admin",), INVALID),
    ("GET", "/admin/accounts/<int:user_id>"): staff_page(("admin",), MISSING),
    ("POST", "/admin/accounts/<int:user_id>"): staff_page(("admin",), MISSING),
    ("POST", "/admin/accounts/<int:user_id>/password"): staff_page(("admin",), MISSING),
    ("POST", "/admin/accounts/<int:user_id>/active"): staff_page(("admin",), MISSING),
    # the root-cause library and checklists: supervisors and admins
    ("GET", "/root-causes"): staff_page(ADMINS),
    ("GET", "/root-causes/new"): staff_page(ADMINS),
    ("POST", "/root-causes/new"): staff_page(ADMINS, INVALID),
    ("GET", "/root-causes/<code>/edit"): staff_page(ADMINS),
    ("POST", "/root-causes/<code>/edit"): staff_page(ADMINS, INVALID),
    ("POST", "/root-causes/<code>/deactivate"): staff_page(ADMINS),
    ("POST", "/root-causes/<code>/activate"): staff_page(ADMINS),
    ("GET", "/suggestions"): staff_page(ADMINS),
    ("POST", "/suggestions/<int:ticket_id>/promote"): staff_page(ADMINS, MISSING),  # A is not closed
    ("GET", "/checklists"): staff_page(ADMINS),
    ("POST", "/checklists"): staff_page(ADMINS, INVALID),
    ("GET", "/checklists/<int:checklist_id>"): staff_page(ADMINS, MISSING),
    # KPI dashboards (issue 14): supervisors and admins; owners and auditors read them too
    ("GET", "/kpi"): staff_page(KPI_READERS),
    ("GET", "/kpi/cases"): staff_page(KPI_READERS, INVALID),  # asked without its filter
    ("GET", "/kpi/faults"): staff_page(KPI_READERS, INVALID),  # asked without its filter
    ("GET", "/kpi/reports/<sha256>.pdf"): staff_page(KPI_READERS, MISSING),  # a photo's hash is no report
    # the notification outbox, its routes and wordings (issue 11): administrators only
    ("GET", "/admin/outbox"): staff_page(("admin",)),
    ("POST", "/admin/outbox/<int:notification_id>/retry"): staff_page(("admin",), MISSING),
    ("GET", "/admin/outbox/routes"): staff_page(("admin",)),
    ("POST", "/admin/outbox/routes"): staff_page(("admin",), INVALID),
    ("GET", "/admin/outbox/templates"): staff_page(("admin",)),
    ("GET", "/admin/outbox/templates/<name>/<locale>"): staff_page(("admin",), MISSING),
    ("POST", "/admin/outbox/templates/<name>/<locale>"): staff_page(("admin",), MISSING),
    ("POST", "/admin/outbox/templates/<name>/<locale>/preview"): staff_page(("admin",), MISSING),
    # the audit pages (issue 13): auditors, admins, supervisors, owners; the access log: admins
    ("GET", "/audit"): staff_page(AUDITORS),
    ("GET", "/audit/tickets/<number>"): staff_page(AUDITORS),
    ("GET", "/admin/access-log"): staff_page(("admin",)),
    # the process heat map and its event log (issue 13 part B): asked without its period, refused as invalid
    ("GET", "/heatmap"): staff_page(AUDITORS),  # the page: a 30-day period when none is asked
    ("GET", "/heatmap/data.json"): staff_page(AUDITORS, INVALID),
    ("GET", "/heatmap/eventlog.csv"): staff_page(AUDITORS, INVALID),
    ("GET", "/heatmap/eventlog.xes"): staff_page(AUDITORS, INVALID),
    # the supervisors' "at risk now" overview (issue 10)
    ("GET", "/overview"): staff_page(ADMINS),
    ("GET", "/overview/fragment"): staff_page(ADMINS),
    # a supervisor reassigns an accepted ticket (issue 10); A is only offered: the form says so, a POST
    # without input is refused naming its fields
    ("GET", "/tickets/<number>/reassign"): staff_page(("supervisor",)),
    ("POST", "/tickets/<number>/reassign"): staff_page(("supervisor",), INVALID),
    # importing ticket history from Excel (issue 14): administrators only
    ("GET", "/admin/history"): staff_page(("admin",)),
    ("POST", "/admin/history"): staff_page(("admin",), INVALID),  # no file
    # the process editor (issue 12 §1): owners and admins; a made-up draft is missing, an empty body invalid
    ("GET", "/owner/processes"): staff_page(EDITORS),
    ("GET", "/owner/processes/import"): staff_page(EDITORS),
    ("POST", "/owner/processes/import"): staff_page(EDITORS, INVALID),  # no file: refused naming it
    ("GET", "/owner/drafts/<int:draft_id>/forms/<name>"): staff_page(EDITORS, MISSING),
    ("POST", "/owner/drafts/<int:draft_id>/forms/<name>"): staff_page(EDITORS, INVALID),
    ("POST", "/owner/drafts/<int:draft_id>/forms/<name>/preview"): staff_page(EDITORS, INVALID),
    ("POST", "/owner/processes/<process_id>/drafts"): staff_page(EDITORS),  # a new draft of the lifecycle
    ("GET", "/owner/processes/from-template"): staff_page(EDITORS),
    ("POST", "/owner/processes/from-template"): staff_page(EDITORS, INVALID),  # no id nor names: refused naming them
    ("GET", "/owner/vocabulary.json"): staff_page(EDITORS),
    ("POST", "/owner/expressions/check"): staff_page(EDITORS, INVALID),
    ("GET", "/owner/drafts/<int:draft_id>"): staff_page(EDITORS, MISSING),
    ("GET", "/owner/drafts/<int:draft_id>/files/<path:name>"): staff_page(EDITORS, MISSING),
    ("POST", "/owner/drafts/<int:draft_id>/save"): staff_page(EDITORS, INVALID),
    ("POST", "/owner/drafts/<int:draft_id>/validate"): staff_page(EDITORS, MISSING),
    ("POST", "/owner/drafts/<int:draft_id>/deploy"): staff_page(EDITORS, INVALID),
    ("POST", "/owner/drafts/<int:draft_id>/discard"): staff_page(EDITORS, MISSING),
    ("GET", "/owner/drafts/<int:draft_id>/diff"): staff_page(EDITORS, MISSING),
    ("GET", "/owner/drafts/<int:draft_id>/diff.json"): staff_page(EDITORS, MISSING),
    ("GET", "/owner/drafts/<int:draft_id>/dmn/<path:name>"): staff_page(EDITORS, MISSING),
    ("GET", "/owner/drafts/<int:draft_id>/notification-texts"): staff_page(EDITORS, MISSING),
    ("POST", "/owner/drafts/<int:draft_id>/notification-texts"): staff_page(EDITORS, INVALID),
    ("POST", "/owner/drafts/<int:draft_id>/notification-texts/preview"): staff_page(EDITORS, INVALID),
    # versions, migration and the impact preview (issue 12 §2-3): owners and admins; a POST without its
    # version or draft is refused naming the field; a made-up job is missing
    ("GET", "/owner/processes/<process_id>/versions"): staff_page(EDITORS),
    ("POST", "/owner/processes/<process_id>/versions/retire"): staff_page(EDITORS, INVALID),
    ("POST", "/owner/processes/<process_id>/versions/delete"): staff_page(EDITORS, INVALID),
    ("POST", "/owner/processes/<process_id>/migrations"): staff_page(EDITORS, INVALID),
    ("GET", "/owner/processes/<process_id>/impact"): staff_page(EDITORS),
    ("POST", "/owner/processes/<process_id>/impact"): staff_page(EDITORS, INVALID),
    ("GET", "/owner/jobs/<int:job_id>"): staff_page(EDITORS, MISSING),
    ("GET", "/owner/jobs/<int:job_id>/fragment"): staff_page(EDITORS, MISSING),
}

# Auditors read everything and change nothing (issue 13): every request that could write is refused them
# before its view runs, whatever the route — except logging in and out and the page language.
TABLE |= {
    (method, rule): {**outcomes, "auditor": FORBIDDEN}
    for (method, rule), outcomes in TABLE.items()
    if method != "GET" and rule not in ("/login", "/logout", "/lang/<code>")
}


def outcome(status: int, location: str | None) -> str:
    """What a response means for the table."""
    if status == 401 or (300 <= status < 400 and (location or "").startswith("/login?next=")):
        return LOGIN
    if status < 400:
        return OK
    return {403: FORBIDDEN, 404: MISSING, 429: THROTTLED}.get(
        status, INVALID if status in (400, 405, 409, 413, 422) else ERROR
    )


CONTACT_NAME, CONTACT_PHONE = "郑先生", "13912345678"  # typed at intake: on the ticket and in its journal

# -- the world -------------------------------------------------------------------------------------


@dataclass
class World:
    """Ticket A with its task, photo and overlay; who is who; a customer link for A and for B."""

    ticket_a: Ticket
    task_id: str
    sha256: str
    comparison_id: int
    engineer_id: int
    usernames: dict[str, str]
    link: Callable[[str], str]  # principal → the token its requests carry
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)


def build_world(platform: Any) -> World:
    from processes.accounts.service import create_user, hash_password

    session_maker = platform.db.session
    other_id = open_ticket(platform, "blue", at_least=1)
    device = device_with_candidates(platform, None, "yellow", 2)
    with session_maker() as session:
        agent = session.scalar(select(User).where(User.username == "agent"))
        ticket_id = platform.intake.create(
            session,
            {
                "source_channel": "hotline",
                "urgency": "yellow",
                "device_id": device.id,
                "problem_description": "设备故障，无法启动",
                "contact_name": CONTACT_NAME,
                "contact_phone": CONTACT_PHONE,
            },
            creator=agent,
        ).id
    drain(platform)
    with session_maker() as session:
        a = session.get(Ticket, ticket_id)
        assert a is not None and a.engineer_id is not None, "ticket A must be offered to an engineer"
        on = session.get(Engineer, a.engineer_id)
        offered = set(session.scalars(select(Offer.engineer_id).where(Offer.ticket_id == a.id)))
        engineers = list(session.scalars(select(Engineer).order_by(Engineer.id)))
        peer = next(e for e in engineers if e.group == on.group and e.id not in offered)
        stranger = next(e for e in engineers if e.group != on.group and e.id not in offered)
        (view,) = [v for v in platform.desk.for_ticket(session, a) if v.spec_name == "accept_offer"]
        photo = platform.attachments.store(
            session,
            a,
            # a close-out photo: the one kind of file a customer's link also serves (webui.customer.file)
            Upload("fault_photo", "p.jpg", "image/jpeg", jpeg()),
            expect="image",
            uploaded_by="matrix",
            task_spec="close_out",
        )
        png = io.BytesIO()
        Image.new("RGB", (64, 48), (200, 0, 0)).save(png, "PNG")
        comparison = EvidenceComparison(
            ticket_id=a.id,
            task_key=str(uuid.uuid4()),
            before_sha256=photo.sha256,
            after_sha256=photo.sha256,
            needs_review=False,
            findings=[],
            overlay_key=platform.attachments.files.put(png.getvalue()),
            timings_ms={},
            created_at=platform.engine.clock.now(),
        )
        session.add(comparison)
        for username, role in (("owner", "process_owner"), ("auditor", "auditor"), ("admin", "admin")):
            if session.scalar(select(User.id).where(User.username == username)) is None:
                create_user(session, username, hash_password("closeloop-demo"), role)
        session.flush()
        usernames = {
            "agent": "agent",
            "supervisor": "supervisor",
            "owner": session.scalar(select(User.username).where(User.role == "process_owner")),
            "auditor": session.scalar(select(User.username).where(User.role == "auditor")),
            "admin": session.scalar(select(User.username).where(User.role == "admin")),
            "eng_on": on.user.username,
            "eng_group": peer.user.username,
            "eng_off": stranger.user.username,
        }
        world = World(
            ticket_a=a,
            task_id=view.id,
            sha256=photo.sha256,
            comparison_id=comparison.id,
            engineer_id=on.id,
            usernames=usernames,
            link=lambda principal: _link(platform, principal, ticket_id, other_id),
        )
        session.expunge(a)
    world.tokens = {p: bearer(platform, name) for p, name in usernames.items()}
    return world


def _link(platform: Any, principal: str, this_id: int, other_id: int) -> str:
    """The token of the principal's link, read when used (an agent may have rotated it meanwhile)."""
    if principal not in CUSTOMERS:
        return "not-a-link"
    with platform.db.session() as session:
        ticket = session.get(Ticket, this_id if principal == "customer_this" else other_id)
        return platform.links.token(ticket)


def url_for_rule(rule: Any, world: World, principal: str) -> str:
    values = {
        "number": world.ticket_a.number,
        "task_id": world.task_id,
        "sha256": world.sha256,
        "comparison_id": world.comparison_id,
        "engineer_id": world.engineer_id,
        "incident_id": 999_999,
        "draft_id": 999_999,  # the process editor: no such draft
        "job_id": 999_999,  # versions and impact: no such job
        "process_id": "ticket_lifecycle",
        "notification_id": 999_999,
        "name": "no_such_template",
        "locale": "en",
        "checklist_id": 999_999,
        "ticket_id": world.ticket_a.id,
        "upload_id": str(uuid.UUID(int=1)),
        "code": "wear",
        "kind": "skills",
        "filename": "app.css",
        "token": world.link(principal),
        # the admin's directory and accounts (issue 10): A's own customer, site and device; no such user
        "customer_id": world.ticket_a.customer_id,
        "site_id": world.ticket_a.site_id,
        "device_id": world.ticket_a.device_id,
        "user_id": 999_999,
    }

    def fill(match: re.Match[str]) -> str:
        argument = match.group(2)
        if argument not in values:
            raise AssertionError(f"no test value for <{argument}> in {rule.rule}: add one to url_for_rule")
        return rule._converters[argument].to_url(values[argument])  # noqa: SLF001 — the URL's own converter

    return re.sub(r"<(?:([^>]*):)?(\w+)>", fill, rule.rule)


# -- walking ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    method: str
    rule: str
    principal: str
    expected: str
    actual: str
    status: int


def routes(app: Any) -> Iterator[tuple[str, Any]]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule


def unreviewed(app: Any) -> list[str]:
    """Routes of the app with no row in the table, and rows for routes that are gone."""
    present = {(method, rule.rule) for method, rule in routes(app)}
    return [f"{m} {r} has no row" for m, r in sorted(present - TABLE.keys())] + [
        f"{m} {r} is in the table but not in the app" for m, r in sorted(TABLE.keys() - present)
    ]


def walk(
    app: Any, platform: Any, world: World, methods: Collection[str] = ("GET", "POST", "PUT"), csrf: bool = True
) -> list[Cell]:
    """Request every route (of ``methods``) as every principal; each principal from its own address (the
    rate limits count per address) and with the session it had right after logging in (a logout cell
    must not log the next cells out).  ``csrf=False``: forms are posted without their CSRF token."""
    sessions = {}
    for index, principal in enumerate(PRINCIPALS):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.15.0.{index + 1}"
        if principal in STAFF:
            login(client, world.usernames[principal])
        sessions[principal] = (client, client.get_cookie("session"), csrf_token(client, "/login"))
    cells = []
    for method, rule in routes(app):
        expected = TABLE.get((method, rule.rule))
        if expected is None or method not in methods:
            continue
        for principal in PRINCIPALS:
            client, cookie, token = sessions[principal]
            if cookie is not None:
                client.set_cookie("session", cookie.value)
            url = url_for_rule(rule, world, principal)
            response = _request(client, method, url, token if csrf else "", world, principal)
            cells.append(
                Cell(
                    method,
                    rule.rule,
                    principal,
                    expected[principal],
                    outcome(response.status_code, response.headers.get("Location")),
                    response.status_code,
                )
            )
    return cells


def _request(client: Any, method: str, url: str, csrf: str, world: World, principal: str) -> Any:
    if url.startswith("/api/"):
        headers = world.tokens.get(principal, {})
        body: dict[str, Any] = {}
        if url == "/api/v1/uploads":
            body = {"upload_id": str(uuid.uuid4()), "task_id": world.task_id, "field": "nope", "total_size": 10}
        if method == "PUT":
            return client.put(url + "?offset=0", data=b"x", headers=headers)
        return client.open(url, method=method, json=body if method == "POST" else None, headers=headers)
    if method == "POST":
        return client.post(url, data={"csrf_token": csrf} if csrf else {})
    return client.open(url, method=method)


# -- the tests -------------------------------------------------------------------------------------


def test_every_route_has_a_row_in_the_table(app) -> None:  # noqa: ANN001
    assert unreviewed(app) == []


def test_every_route_answers_every_principal_as_the_table_says(platform, app) -> None:  # noqa: ANN001
    world = build_world(platform)
    cells = walk(app, platform, world)
    assert len(cells) >= len(TABLE) * len(PRINCIPALS)
    wrong = [f"{c.method} {c.rule} as {c.principal}: {c.actual} ({c.status}), table says {c.expected}" for c in cells]
    wrong = [w for w, c in zip(wrong, cells, strict=True) if c.actual != c.expected]
    assert wrong == [], "\n".join(wrong)


def test_no_get_changes_anything_and_no_form_is_taken_without_its_csrf_token(platform, app) -> None:  # noqa: ANN001
    """The class of "state changes on a GET / without CSRF": every GET of every route as every principal
    leaves every table as it was; every page route that takes a POST refuses it without the form's
    CSRF token (400) — whoever sends it — and changes nothing.  (The API takes no cookies' word: its
    callers are bearer tokens, or the pages' uploads with the token in a header.)"""
    world = build_world(platform)
    before = _records(platform)
    gets = walk(app, platform, world, methods=("GET",))
    assert gets and _records(platform) == before
    posts = walk(app, platform, world, methods=("POST",), csrf=False)
    pages = [c for c in posts if not c.rule.startswith("/api/")]
    page_posts = [(m, r) for m, r in TABLE if m == "POST" and not r.startswith("/api/")]
    assert len(pages) == len(page_posts) * len(PRINCIPALS) > 0
    assert [f"{c.method} {c.rule} as {c.principal}: {c.status}" for c in pages if c.status != 400] == []
    assert _records(platform) == before


def _records(platform: Any) -> dict[str, Any]:
    """Every table but the audit's access log (reading an audit page is itself logged, on purpose) and the
    heat map's projection of the journal (derived rows a heat map brings up to date before reading)."""
    derived = ("audit_access_log", "heat_visit", "heat_progress", "heat_cell")
    return {name: rows for name, rows in snapshot(platform).items() if name not in derived}


def _as(app: Any, username: str) -> Any:
    client = app.test_client()
    login(client, username)
    return client


def test_engineers_see_their_own_past_and_group_offered_tickets_and_only_their_customers_phone(
    platform,  # noqa: ANN001
    app,  # noqa: ANN001
    count_queries,  # noqa: ANN001
) -> None:
    from support import complete

    world = build_world(platform)
    number, phone = world.ticket_a.number, CONTACT_PHONE
    assert world.ticket_a.contact_phone == phone
    users = world.usernames
    on, peer, stranger = (_as(app, users[p]) for p in ("eng_on", "eng_group", "eng_off"))
    assert number in on.get("/tickets").get_data(as_text=True)
    assert number in peer.get("/tickets").get_data(as_text=True)  # the group's open offer
    assert number not in stranger.get("/tickets").get_data(as_text=True)
    assert phone in on.get(f"/tickets/{number}").get_data(as_text=True)
    peer_page = peer.get(f"/tickets/{number}").get_data(as_text=True)
    assert phone not in peer_page and CONTACT_NAME not in peer_page
    api_view = app.test_client().get(f"/api/v1/tickets/{number}", headers=world.tokens["eng_group"])
    assert api_view.status_code == 200 and phone not in api_view.get_data(as_text=True)
    assert phone in _as(app, "agent").get(f"/tickets/{number}").get_data(as_text=True)
    # Opening a ticket, an engineer picks a customer by name: the directory's phone numbers stay hidden.
    with platform.db.session() as session:
        phones = [p for p in session.scalars(select(Customer.phone)) if p]
    assert phones and all(p in _as(app, "agent").get("/tickets/new").get_data(as_text=True) for p in phones)
    intake = on.get("/tickets/new").get_data(as_text=True)
    assert not [p for p in phones if p in intake]

    # The list is one query however many tickets there are: the filter is in the SQL.
    with count_queries() as before:
        stranger.get("/tickets")
    open_ticket(platform, "blue", at_least=1)
    with count_queries() as after:
        stranger.get("/tickets")
    assert after.count == before.count

    # Declined: the engineer still sees the ticket they were offered, no longer the customer's phone.
    complete(platform, world.ticket_a.id, "accept_offer", {"decision": "decline", "decline_reason": "too_far"})
    page = on.get(f"/tickets/{number}")
    assert page.status_code == 200 and phone not in page.get_data(as_text=True)
    assert number in on.get("/tickets").get_data(as_text=True)


def test_a_file_is_served_to_whoever_may_see_a_ticket_it_is_attached_to(platform, app) -> None:  # noqa: ANN001
    """The same photo on A and on a ticket the stranger engineer opened himself: served to him for the
    second ticket's sake; a hash no ticket of his holds stays refused."""
    world = build_world(platform)
    stranger = _as(app, world.usernames["eng_off"])
    assert stranger.get(f"/files/{world.sha256}").status_code == 403
    assert stranger.get(f"/files/{'0' * 64}").status_code == 404
    with platform.db.session() as session:
        user = session.scalar(select(User).where(User.username == world.usernames["eng_off"]))
        a = session.get(Ticket, world.ticket_a.id)
        own = platform.intake.create(
            session,
            {"source_channel": "hotline", "urgency": "blue", "device_id": a.device_id, "problem_description": "noise"},
            creator=user,
        )
        platform.attachments.store(
            session,
            own,
            Upload("diagnosis_photo", "p.jpg", "image/jpeg", jpeg()),
            expect="image",
            uploaded_by=user.username,
            task_spec="on_site",
        )
    response = stranger.get(f"/files/{world.sha256}")
    assert response.status_code == 200 and "private" in response.headers["Cache-Control"].split(", ")


def test_api_intake_refuses_owner_auditor_and_admin_tokens_as_the_form_refuses_them(platform, app) -> None:  # noqa: ANN001
    """A valid ticket, sent with each role's token: the roles the web form refuses get the API's JSON 403
    and no ticket is opened; the intake roles get their ticket (201)."""
    from support import bearer

    from processes.accounts.service import create_user, hash_password

    with platform.db.session() as session:
        for username, role in (("owner", "process_owner"), ("auditor", "auditor"), ("admin", "admin")):
            if session.scalar(select(User.id).where(User.username == username)) is None:
                create_user(session, username, hash_password("closeloop-demo"), role)
        device_id = session.scalar(select(Ticket.device_id).limit(1)) or 1
    body = {"source_channel": "crm", "urgency": "blue", "device_id": device_id, "problem_description": "异响，需要检查"}
    client = app.test_client()
    for role in ("process_owner", "auditor", "admin"):
        with platform.db.session() as session:
            username = session.scalar(select(User.username).where(User.role == role))
        headers = {**bearer(platform, username), "Accept-Language": "en"}
        before = snapshot(platform)
        refused = client.post("/api/v1/tickets", json=body, headers=headers)
        assert refused.status_code == 403 and refused.mimetype == "application/json", role
        assert refused.get_json()["error"] == {"code": "forbidden", "message": "You may not do this.", "fields": []}
        assert snapshot(platform) == before, role
    created = client.post("/api/v1/tickets", json=body, headers=bearer(platform, "agent2"))
    assert created.status_code == 201, created.get_json()


def test_every_action_has_a_rule_and_every_rule_names_known_roles() -> None:
    """The policy refuses what its table does not name; an action without a row would be a KeyError."""
    from processes.access.policy import CUSTOMER, RULES, Action
    from processes.accounts.models import ROLES

    assert set(RULES) == set(Action)
    assert {role for rule in RULES.values() for role in rule} <= {*ROLES, CUSTOMER}


def test_the_api_takes_no_cookies_word_for_a_change(platform, app) -> None:  # noqa: ANN001
    """Another site can make a logged-in browser send requests with its cookies: the API's writes need a
    bearer token, or (the pages' own uploads) the session's CSRF token in a header."""
    world = build_world(platform)
    browser = _as(app, world.usernames["eng_on"])
    before = snapshot(platform)
    intake = {"source_channel": "crm", "urgency": "blue", "device_id": world.ticket_a.device_id}
    assert browser.post("/api/v1/tickets", json={**intake, "problem_description": "异响检查"}).status_code == 401
    complete = browser.post(f"/api/v1/tasks/{world.task_id}/complete", json={"data": {"decision": "accept"}})
    assert complete.status_code == 401
    upload = {"upload_id": str(uuid.uuid4()), "task_id": world.task_id, "field": "x", "total_size": 10}
    refused = browser.post("/api/v1/uploads", json=upload)
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf"
    assert snapshot(platform) == before

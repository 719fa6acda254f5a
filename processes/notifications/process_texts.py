"""Notification texts a process carries: ``notifications.json`` beside its diagram.

A template creates a whole process (diagram, decisions, forms *and* the words its messages use), so the texts
travel with the deployment instead of living only in the admins' table: a consumer after-sales process may tell
its customers something else than the plant's lifecycle does.  The file is optional::

    {"job_offered": {"en": {"subject": "…", "body": "…"}, "zh": {"subject": "…", "body": "…"}}}

Each key is a message kind of :data:`.templates.TEMPLATES`; each text is the same sandboxed Jinja an admin
writes (:mod:`.sandbox`), checked with the same rules and against the variables that kind provides.  The editor's
validation lists every problem (:func:`problems`), naming the kind and the field, so a draft carrying a bad or
hostile text is never deployed.

When a message about a ticket is rendered (written, shown in the inbox, delivered), the texts of the deployment
the ticket's instance runs on win over an admin's wording and the built-in one for that kind and language
(:func:`choose`); a process without the file, or without that kind or language, reads as before.  A deployment
that reached the database some other way (``closeloop deploy``) is checked again when read: only texts the
sandbox accepts are used, and rendering stays the bounded render of :func:`.templates.render`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from engine.forms import json_depth
from engine.models import Deployment, ProcessInstance

from ..tickets.models import Ticket
from . import sandbox
from .models import Notification
from .sandbox import N_
from .templates import TEMPLATES, _translations, variables

FILE = "notifications.json"
# The file's language keys and the locale each stands for.
LANGUAGES = {"zh": "zh_Hans", "en": "en"}
PARTS = ("subject", "body")
MAX_CHARS = 200_000  # every kind in both languages at the sandbox's longest text fits with room
MAX_DEPTH = 3  # kind → language → subject/body
_REMEMBERED = 256  # deployments whose texts are kept parsed (a deployment never changes: keyed by content hash)

Texts = dict[tuple[str, str], tuple[str, str]]  # (kind, locale) -> (subject, body)
_by_hash: dict[str, Texts] = {}
# Only the file's text is read from the deployment's files (not its diagrams), in the database's JSON syntax.
_FILE_TEXT = Deployment.files[FILE].as_string()


@dataclass(frozen=True)
class TextProblem:
    """One thing wrong in the file: the kind and field it concerns, and why (an English msgid, %-params)."""

    kind: str
    field: str  # "zh.subject", "en", "" for the file or a whole kind
    code: str
    reason: str
    params: dict[str, Any] = field(default_factory=dict)

    def reason_in(self, locale: str) -> str:
        """The reason in ``locale``; a sandbox refusal's own reason (a msgid too) is translated first."""
        gettext = _translations(locale).gettext
        params = dict(self.params)
        if "detail" in params and self.code == "text_refused":
            params["detail"] = gettext(params["detail"]) % params.pop("detail_params", {})
        else:
            params.pop("detail_params", None)
        return gettext(self.reason) % params if params else gettext(self.reason)


def element_type(locale: str) -> str:
    """What the editor calls the thing a problem names (where a diagram problem names its element's kind)."""
    return _translations(locale).gettext(N_("notification text"))


def problems(files: Mapping[str, str]) -> list[TextProblem]:
    """Every problem of the deployment's ``notifications.json``; none when it has no such file."""
    text = files.get(FILE)
    if text is None:
        return []
    loaded, found = _load(text)
    if loaded is None:
        return found
    for kind, languages in loaded.items():
        found += _kind_problems(kind, languages)
    return found


def _load(text: object) -> tuple[dict[str, Any] | None, list[TextProblem]]:
    if not isinstance(text, str):
        return None, [TextProblem("", "", "text_bad_file", N_("the file must be JSON text"))]
    if len(text) > MAX_CHARS:
        return None, [
            TextProblem(
                "", "", "text_bad_file", N_("the file is longer than %(limit)s characters"), {"limit": MAX_CHARS}
            )
        ]
    if json_depth(text) > MAX_DEPTH:
        return None, [TextProblem("", "", "text_bad_file", _SHAPE)]
    try:
        loaded = json.loads(text)
    except ValueError as error:
        line, column = getattr(error, "lineno", 1), getattr(error, "colno", 1)
        reason = N_("not valid JSON (line %(line)s, column %(column)s)")
        return None, [TextProblem("", "", "text_bad_file", reason, {"line": line, "column": column})]
    if not isinstance(loaded, dict):
        return None, [TextProblem("", "", "text_bad_file", _SHAPE)]
    return loaded, []


_SHAPE = N_("the file must be an object of message kinds, each holding zh and en texts with a subject and a body")


def _kind_problems(kind: str, languages: object) -> list[TextProblem]:
    if kind not in TEMPLATES:
        known = ", ".join(sorted(TEMPLATES))
        return [
            TextProblem(
                kind[:80], "", "text_unknown_kind", N_("unknown message kind; known: %(known)s"), {"known": known}
            )
        ]
    if not isinstance(languages, dict):
        return [TextProblem(kind, "", "text_bad_file", N_("the texts of a message must be an object with zh and en"))]
    found = [
        TextProblem(kind, str(key)[:20], "text_unknown_language", N_("unknown language; use zh and en"))
        for key in languages
        if key not in LANGUAGES
    ]
    for language in LANGUAGES:
        if language not in languages:
            found.append(
                TextProblem(kind, language, "text_missing_language", N_("the text in this language is missing"))
            )
        else:
            found += _text_problems(kind, language, languages[language])
    return found


def _text_problems(kind: str, language: str, text: object) -> list[TextProblem]:
    if not isinstance(text, dict):
        return [TextProblem(kind, language, "text_bad_file", N_("a text must be an object with a subject and a body"))]
    found = [
        TextProblem(
            kind,
            f"{language}.{str(key)[:20]}",
            "text_unknown_field",
            N_("unknown field; a text has a subject and a body"),
        )
        for key in text
        if key not in PARTS
    ]
    names = variables(kind)
    for part in PARTS:
        where = f"{language}.{part}"
        source = text.get(part)
        if not isinstance(source, str):
            found.append(TextProblem(kind, where, "text_missing", N_("missing: a text needs a subject and a body")))
            continue
        try:
            sandbox.check(source, names, part)
        except sandbox.TemplateRefused as refused:
            found.append(
                TextProblem(
                    kind,
                    where,
                    "text_refused",
                    N_("line %(line)s: %(detail)s"),
                    {"line": refused.line, "detail": refused.reason, "detail_params": refused.params},
                )
            )
    return found


def parsed(text: str) -> Texts:
    """The texts of a file that the sandbox accepts, by (kind, locale); a kind or language with a problem is
    left out (its messages read as if the process carried no text for it)."""
    loaded, found = _load(text)
    if loaded is None:
        return {}
    texts: Texts = {}
    for kind, languages in loaded.items():
        if _kind_problems(kind, languages):
            continue
        for language, locale in LANGUAGES.items():
            texts[(kind, locale)] = (languages[language]["subject"], languages[language]["body"])
    return texts


def for_ticket(session: Session, ticket: Ticket | None) -> Texts:
    """The texts of the process ``ticket`` runs on (empty for none).

    The first message of a ticket is written while its instance starts, before the intake records which
    instance that is: the instance is then the one started under the ticket's number (its business key).
    """
    if ticket is None:
        return {}
    query = _on_deployment(ProcessInstance.id)
    if ticket.process_instance_id is not None:
        query = query.where(ProcessInstance.id == ticket.process_instance_id)
    elif ticket.number:
        query = query.where(ProcessInstance.business_key == ticket.number).order_by(ProcessInstance.id.desc()).limit(1)
    else:
        return {}
    return next(iter(_texts(session, query).values()), {})


def for_tickets(session: Session, ticket_ids: Iterable[int | None]) -> dict[int, Texts]:
    """By ticket id: the texts of the process each ticket runs on (tickets whose process carries none left out).
    One query, whatever the count."""
    ids = {i for i in ticket_ids if i}
    if not ids:
        return {}
    query = _on_deployment(Ticket.id).join(Ticket, Ticket.process_instance_id == ProcessInstance.id)
    return _texts(session, query.where(Ticket.id.in_(ids)))


def for_notifications(session: Session, notification_ids: Iterable[int]) -> dict[int, Texts]:
    """By notification id: the texts of the process the notification's ticket runs on (one query)."""
    ids = set(notification_ids)
    if not ids:
        return {}
    query = (
        _on_deployment(Notification.id)
        .join(Ticket, Ticket.process_instance_id == ProcessInstance.id)
        .join(Notification, Notification.ticket_id == Ticket.id)
    )
    return _texts(session, query.where(Notification.id.in_(ids)))


def _on_deployment(key: InstrumentedAttribute[int]) -> Select[tuple[int, str, str | None]]:
    """(``key``, deployment hash, the file's text) from instances and the deployment each runs on."""
    return (
        select(key, Deployment.content_hash, _FILE_TEXT)
        .select_from(ProcessInstance)
        .join(Deployment, Deployment.id == ProcessInstance.deployment_id)
    )


def _texts(session: Session, query: Select[tuple[int, str, str | None]]) -> dict[int, Texts]:
    """Run ``query`` (key, deployment hash, the file's text) and parse each deployment's file once: a deployment
    never changes, so its parsed texts are kept by content hash."""
    found: dict[int, Texts] = {}
    for key, digest, text in session.execute(query):
        if text is None:
            continue
        if digest not in _by_hash:
            if len(_by_hash) >= _REMEMBERED:
                _by_hash.clear()
            _by_hash[digest] = parsed(text)
        if _by_hash[digest]:
            found[key] = _by_hash[digest]
    return found


def choose(
    process: Texts | None, admins: Mapping[tuple[str, str], tuple[str, str]], kind: str, locale: str
) -> tuple[str, str] | None:
    """The wording to render ``kind`` in ``locale`` with: the process's, else an admin's, else None (built-in)."""
    return (process or {}).get((kind, locale)) or admins.get((kind, locale))

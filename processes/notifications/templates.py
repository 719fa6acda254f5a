"""Notification texts: events rendered in the reader's language when they are shown or sent.

A notification is stored as an *event*: a message kind (``template``) and its parameters as facts (the ticket
number, the urgency code, the response deadline as an instant, the device, the engineer …), never as text in
somebody's language.  The text is made when a person reads it: the in-app inbox renders it in the reader's
current language, the delivery job in the recipient's language at the moment it sends.  So an agent who switches
to English reads yesterday's notices in English, and the deadline is written for that language on the plant's
clock.

The built-in wordings are sandboxed Jinja templates (the same language an admin edits them in,
:mod:`.sandbox`) whose English source is the msgid of the application's catalogue (translations/), so the
Chinese wording lives with every other translation.  A fact that is missing (no device on the ticket, no deadline
yet, no reason given) is left out by the template's ``{% if %}``: no "-" and no dangling punctuation; free text
loses its own closing full stop, so "…漏水。" never becomes "…漏水。。".
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton
from babel.support import NullTranslations, Translations
from jinja2 import meta

from ..platform_paths import TRANSLATIONS
from . import sandbox
from .sandbox import ENV, N_

TEMPLATES: dict[str, tuple[str, str]] = {
    "urgent_ticket": (
        N_("Urgent ticket {{ ticket }} ({{ urgency }})"),
        N_("{{ customer }}: {{ problem }}.{% if due %} Respond by {{ due }}.{% endif %}"),
    ),
    "escalation_supervisor": (
        N_("No engineer accepted {{ ticket }}"),
        N_(
            "{% if engineer %}{{ engineer }} did not answer within the time allowed. {% endif %}The ticket is being "
            "re-offered.{% if due %} Respond by {{ due }}.{% endif %}"
        ),
    ),
    "escalation_group": (
        N_("Help needed on {{ ticket }}"),
        N_(
            "{{ customer }}{% if device %}, {{ device }}{% endif %}: {{ problem }}. The first offer went unanswered; "
            "can you take it?"
        ),
    ),
    "escalation_customer": (
        N_("Update on your request {{ ticket }}"),
        N_("We are bringing in a senior engineer for your request {{ ticket }} and will confirm shortly."),
    ),
    "response_breached": (
        N_("Response deadline missed: {{ ticket }}"),
        N_(
            "{{ ticket }} ({{ urgency }}) for {{ customer }} had no engineer on site"
            "{% if due %} by {{ due }}{% endif %}."
        ),
    ),
    "no_eligible_engineer": (
        N_("Nobody can be offered {{ ticket }}"),
        N_("{{ ticket }} ({{ urgency }}) for {{ customer }}: no eligible engineer. Please assign one."),
    ),
    "job_offered": (
        N_("New job for you: {{ ticket }}"),
        N_("{{ customer }}{% if device %}, {{ device }}{% endif %}: {{ problem }}. Please accept or decline."),
    ),
    "job_reassigned": (
        N_("Job moved: {{ ticket }}"),
        N_(
            "The supervisor gave {{ ticket }} to {% if engineer %}{{ engineer }}{% else %}another engineer{% endif %}"
            "{% if reason %}: {{ reason }}{% else %}.{% endif %} You need not go."
        ),
    ),
    "incident_waiting": (
        N_("Process stopped: {{ ticket }}"),
        N_(
            "{{ element }} failed {{ attempts }} times: {{ error }}. Automatic retries are used up; retry it (or skip "
            "the task) under Incidents."
        ),
    ),
    "problem_recurred": (
        N_("Problem came back: {{ ticket }}"),
        N_(
            "{% if device %}{{ device }} failed again{% else %}The problem came back{% endif %} within 7 days of "
            "{{ ticket }}{% if new_ticket %}; new ticket {{ new_ticket }}{% endif %}."
        ),
    ),
    # The lifecycle's steps, told to the people they concern (processes.notifications.events).
    "ticket_received": (
        N_("We received your request {{ ticket }}"),
        N_(
            "{% if device %}{{ device }}: {% endif %}{{ problem }}."
            "{% if link %} Follow its progress here: {{ link }}{% endif %}"
        ),
    ),
    "engineer_assigned": (
        N_("Engineer on the way: {{ ticket }}"),
        N_(
            "{% if engineer %}{{ engineer }}{% else %}An engineer{% endif %}{% if engineer_phone %} "
            "({{ engineer_phone }}){% endif %} took your request {{ ticket }} and is on the way{% if due %}; due by "
            "{{ due }}{% endif %}."
        ),
    ),
    "engineer_on_site": (
        N_("Engineer on site: {{ ticket }}"),
        N_(
            "{% if engineer %}{{ engineer }}{% else %}The engineer{% endif %} has arrived and is repairing "
            "{% if device %}{{ device }}{% else %}your equipment{% endif %}."
        ),
    ),
    "repaired_please_accept": (
        N_("Repaired, please confirm: {{ ticket }}"),
        N_(
            "The repair of {% if device %}{{ device }}{% else %}your equipment{% endif %} is done. Please check it and "
            "accept or reject it{% if link %} here: {{ link }}{% else %}.{% endif %}"
        ),
    ),
    "rework_scheduled": (
        N_("Rework scheduled: {{ ticket }}"),
        N_(
            "You told us the repair{% if device %} of {{ device }}{% endif %} is not right; {% if engineer %}"
            "{{ engineer }}{% else %}an engineer{% endif %} will come back to fix it."
        ),
    ),
    "rework_returned": (
        N_("Returned for rework: {{ ticket }}"),
        N_(
            "{{ customer }} did not accept the repair{% if device %} of {{ device }}{% endif %}{% if reason %}: "
            "{{ reason }}{% endif %}. Please go back."
        ),
    ),
    "evidence_flagged": (
        N_("Evidence returned: {{ ticket }}"),
        N_(
            "The supervisor returned your close-out evidence for {{ ticket }}"
            "{% if comment %}: {{ comment }}{% endif %}."
        ),
    ),
    "evidence_review_waiting": (
        N_("Evidence to review: {{ ticket }}"),
        N_(
            "{% if engineer %}{{ engineer }}{% else %}The engineer{% endif %} closed out {{ ticket }} for "
            "{{ customer }}; the evidence waits for your review."
        ),
    ),
    # An agent sends the customer their portal link from the ticket page (processes.notifications.customer_link).
    "customer_link": (
        N_("Your service link for {{ ticket }}"),
        N_(
            "Follow your request {{ ticket }}{% if device %} ({{ device }}){% endif %} and confirm the repair here: "
            "{{ link }}"
        ),
    ),
}


# The urgency code in a text, in the reader's words.
URGENCIES = {"red": N_("red"), "orange": N_("orange"), "yellow": N_("yellow"), "blue": N_("blue")}
# Free text typed by people: its own closing punctuation is dropped, the template ends the sentence.
FREE_TEXT = frozenset({"problem", "reason", "comment", "error"})
_CLOSING = "。.．！!？?；;，,、 \t\n"
# Values that mean "nobody knew": rows written before events carried facts used "-" for a missing one.
_MISSING = (None, "", "-")
DEFAULT_TIMEZONE = "Asia/Shanghai"


@lru_cache(maxsize=8)
def _translations(locale: str) -> NullTranslations:
    if locale == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [locale], domain="messages")


LOCALES = ("zh_Hans", "en")
SUBJECT_LIMIT = 200
BODY_LIMIT = 1000
# What every ticket message may say (processes.notifications.service.ticket_params).
TICKET_VARIABLES = frozenset({"ticket", "urgency", "customer", "problem", "due", "device"})
_NOT_ABOUT_A_TICKET = frozenset({"incident_waiting"})
log = logging.getLogger(__name__)


@lru_cache(maxsize=64)
def variables(template: str) -> frozenset[str]:
    """The names a message's template may use: its built-in text's variables (in every language), and a
    ticket's facts."""
    names: set[str] = set()
    for locale in LOCALES:
        for text in builtin(template, locale):
            names |= meta.find_undeclared_variables(ENV.parse(text))
    return frozenset(names) if template in _NOT_ABOUT_A_TICKET else frozenset(names) | TICKET_VARIABLES


def builtin(template: str, locale: str) -> tuple[str, str]:
    """The built-in wording in ``locale``: the Jinja an admin starts editing from."""
    translations = _translations(locale)
    subject, body = TEMPLATES[template]
    return translations.gettext(subject), translations.gettext(body)


def format_instant(value: Any, locale: str, timezone: str | None = None) -> str:
    """An instant as its reader writes it, on the plant's clock: ``11月28日 14:30`` / ``Nov 28, 14:30``.

    Stored values are ISO 8601 instants with the plant's offset (:func:`.service.ticket_params`), so they are
    shown on that clock unless ``timezone`` names another; a naive one (rows written before notifications were
    events stored ``2026-11-28 14:30`` on the plant's clock) is read on ``timezone`` or the default plant clock.
    Anything unreadable is shown as it is.
    """
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone or DEFAULT_TIMEZONE))
    zone = ZoneInfo(timezone) if timezone else moment.tzinfo
    # CLDR has no month-day-hour-minute skeleton in every language: the date and the time, joined the
    # language's own way ("Nov 28, 14:30", "11月28日 14:30").
    day = format_skeleton("MMMd", moment, tzinfo=zone, locale=locale)
    clock = format_skeleton("Hm", moment, tzinfo=zone, locale=locale)
    return str(Locale.parse(locale).datetime_formats["medium"]).format(clock, day)


def present(params: dict[str, Any], names: frozenset[str], locale: str, timezone: str | None) -> dict[str, str]:
    """The event's facts as its reader reads them; every name the template may use is there, a missing one empty
    (so ``{% if due %}`` leaves the clause out instead of failing or printing "-")."""
    translations = _translations(locale)
    values = dict.fromkeys(names, "")
    for name, value in params.items():
        if name == "attachment" or value in _MISSING:
            continue
        if name == "due":
            text = format_instant(value, locale, timezone)
        elif name == "urgency" and value in URGENCIES:
            text = translations.gettext(URGENCIES[value])
        elif name in FREE_TEXT:
            text = str(value).strip().rstrip(_CLOSING)
        else:
            text = str(value)
        values[name] = text
    return values


def _tidy(text: str) -> str:
    """Clauses left out by a template leave no double spaces behind."""
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def render(
    template: str,
    params: dict[str, Any],
    locale: str,
    override: tuple[str, str] | None = None,
    timezone: str | None = None,
) -> tuple[str, str]:
    """(subject, body) of ``template`` in ``locale`` with ``params`` filled in.

    ``override`` is an admin's (subject, body) Jinja text for this template and language, checked when it
    was saved; should it still fail on these params, the built-in text is used: a message is never lost
    to its wording.
    """

    values = present(params, variables(template), locale, timezone)
    if override is not None:
        try:
            return (
                _tidy(sandbox.render(override[0], values, SUBJECT_LIMIT)),
                _tidy(sandbox.render(override[1], values, BODY_LIMIT)),
            )
        except Exception as error:  # noqa: BLE001 - any failure of an admin's text falls back to ours
            log.warning("template %s (%s) failed, built-in text used: %s", template, locale, error)
    subject, body = builtin(template, locale)
    return _tidy(sandbox.render(subject, values, SUBJECT_LIMIT)), _tidy(sandbox.render(body, values, BODY_LIMIT))


def provider_values(template: str, params: dict[str, Any], locale: str, timezone: str | None = None) -> dict[str, str]:
    """The parameters an SMS or WeChat template receives: the event's own facts (in its order), presented for
    the reader; facts nobody knew are empty rather than "-"."""
    if template not in TEMPLATES:
        return {name: "" if value in _MISSING else str(value) for name, value in params.items() if name != "attachment"}
    shown = present(params, frozenset(params) - {"attachment"}, locale, timezone)
    return {name: shown.get(name, "") for name in params if name != "attachment"}

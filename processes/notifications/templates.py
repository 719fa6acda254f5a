"""Notification texts, translated with the application's catalogue (translations/).

Rendering happens when the notification is decided, in the recipient's language, with Babel directly:
the worker has no request and the text must not depend on who happened to trigger the step.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

from babel.support import NullTranslations, Translations

from ..platform_paths import TRANSLATIONS


def N_(text: str) -> str:  # noqa: N802 - the conventional marker for extraction
    return text


TEMPLATES: dict[str, tuple[str, str]] = {
    "urgent_ticket": (
        N_("Urgent ticket %(ticket)s (%(urgency)s)"),
        N_("%(customer)s: %(problem)s. Respond by %(due)s."),
    ),
    "escalation_supervisor": (
        N_("No engineer accepted %(ticket)s"),
        N_("%(engineer)s did not answer within the time allowed; the ticket is being re-offered. Respond by %(due)s."),
    ),
    "escalation_group": (
        N_("Help needed on %(ticket)s"),
        N_("%(customer)s, %(device)s: %(problem)s. The first offer went unanswered; can you take it?"),
    ),
    "escalation_customer": (
        N_("Update on your request %(ticket)s"),
        N_("We are bringing in a senior engineer for your request %(ticket)s and will confirm shortly."),
    ),
    "response_breached": (
        N_("Response deadline missed: %(ticket)s"),
        N_("%(ticket)s (%(urgency)s) for %(customer)s had no engineer on site by %(due)s."),
    ),
    "no_eligible_engineer": (
        N_("Nobody can be offered %(ticket)s"),
        N_("%(ticket)s (%(urgency)s) for %(customer)s: no eligible engineer. Please assign one."),
    ),
    "job_offered": (
        N_("New job for you: %(ticket)s"),
        N_("%(customer)s, %(device)s: %(problem)s. Please accept or decline."),
    ),
    "incident_waiting": (
        N_("Process stopped: %(ticket)s"),
        N_(
            "%(element)s failed %(attempts)s times: %(error)s. Automatic retries are used up; retry it (or skip "
            "the task) under Incidents."
        ),
    ),
    "problem_recurred": (
        N_("Problem came back: %(ticket)s"),
        N_("%(device)s failed again within 7 days of %(ticket)s; new ticket %(new_ticket)s."),
    ),
    # The lifecycle's steps, told to the people they concern (processes.notifications.events).
    "ticket_received": (
        N_("We received your request %(ticket)s"),
        N_("%(device)s: %(problem)s. Follow its progress here: %(link)s"),
    ),
    "engineer_assigned": (
        N_("Engineer on the way: %(ticket)s"),
        N_("%(engineer)s (%(engineer_phone)s) took your request %(ticket)s and is on the way; due by %(due)s."),
    ),
    "engineer_on_site": (
        N_("Engineer on site: %(ticket)s"),
        N_("%(engineer)s has arrived and is repairing %(device)s."),
    ),
    "repaired_please_accept": (
        N_("Repaired, please confirm: %(ticket)s"),
        N_("The repair of %(device)s is done. Please check it and accept or reject it here: %(link)s"),
    ),
    "rework_scheduled": (
        N_("Rework scheduled: %(ticket)s"),
        N_("You told us the repair of %(device)s is not right; %(engineer)s will come back to fix it."),
    ),
    "rework_returned": (
        N_("Returned for rework: %(ticket)s"),
        N_("%(customer)s did not accept the repair of %(device)s: %(reason)s. Please go back."),
    ),
    "evidence_flagged": (
        N_("Evidence returned: %(ticket)s"),
        N_("The supervisor returned your close-out evidence for %(ticket)s: %(comment)s"),
    ),
    "evidence_review_waiting": (
        N_("Evidence to review: %(ticket)s"),
        N_("%(engineer)s closed out %(ticket)s for %(customer)s; the evidence waits for your review."),
    ),
}


# The urgency code in a text, in the reader's words.
URGENCIES = {"red": N_("red"), "orange": N_("orange"), "yellow": N_("yellow"), "blue": N_("blue")}


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


def variables(template: str) -> frozenset[str]:
    """The names a message's template may use: its built-in text's placeholders, and a ticket's facts."""
    subject, body = TEMPLATES[template]
    names = frozenset(re.findall(r"%\((\w+)\)s", subject + body))
    return names if template in _NOT_ABOUT_A_TICKET else names | TICKET_VARIABLES


def builtin(template: str, locale: str) -> tuple[str, str]:
    """The built-in wording in ``locale``, as an admin would start editing it (Jinja placeholders)."""
    translations = _translations(locale)
    subject, body = (translations.gettext(text) for text in TEMPLATES[template])
    return tuple(re.sub(r"%\((\w+)\)s", r"{{ \1 }}", text) for text in (subject, body))  # type: ignore[return-value]


def render(
    template: str, params: dict[str, Any], locale: str, override: tuple[str, str] | None = None
) -> tuple[str, str]:
    """(subject, body) of ``template`` in ``locale`` with ``params`` filled in.

    ``override`` is an admin's (subject, body) Jinja text for this template and language, checked when it
    was saved; should it still fail on these params, the built-in text is used: a message is never lost
    to its wording.
    """
    subject, body = TEMPLATES[template]
    translations = _translations(locale)
    urgency = URGENCIES.get(params.get("urgency", ""))
    if urgency is not None:
        params = {**params, "urgency": translations.gettext(urgency)}
    if override is not None:
        from . import sandbox

        try:
            return (
                sandbox.render(override[0], params, SUBJECT_LIMIT).strip(),
                sandbox.render(override[1], params, BODY_LIMIT),
            )
        except Exception as error:  # noqa: BLE001 - any failure of an admin's text falls back to ours
            log.warning("template %s (%s) failed, built-in text used: %s", template, locale, error)
    return translations.gettext(subject) % params, translations.gettext(body) % params

"""Notification texts, translated with the application's catalogue (translations/).

Rendering happens when the notification is decided, in the recipient's language, with Babel directly:
the worker has no request and the text must not depend on who happened to trigger the step.
"""

from __future__ import annotations

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
}


# The urgency code in a text, in the reader's words.
URGENCIES = {"red": N_("red"), "orange": N_("orange"), "yellow": N_("yellow"), "blue": N_("blue")}


@lru_cache(maxsize=8)
def _translations(locale: str) -> NullTranslations:
    if locale == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [locale], domain="messages")


def render(template: str, params: dict[str, Any], locale: str) -> tuple[str, str]:
    """(subject, body) of ``template`` in ``locale`` with ``params`` filled in."""
    subject, body = TEMPLATES[template]
    translations = _translations(locale)
    urgency = URGENCIES.get(params.get("urgency", ""))
    if urgency is not None:
        params = {**params, "urgency": translations.gettext(urgency)}
    return translations.gettext(subject) % params, translations.gettext(body) % params

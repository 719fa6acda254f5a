"""The editor's "notification texts" tab as a service: a draft's ``notifications.json`` read as kinds and texts,
checked and saved back, previewed on sample facts; and which running processes carry texts of their own.

The file's rules are :mod:`processes.notifications.process_texts`' (the same ones validate and deploy apply), so
the tab refuses exactly what a deploy would: a text is saved into the draft only once every kind in it passes,
and a refusal names the kind and the field.  The preview is the server's own bounded, sandboxed render
(:func:`processes.notifications.templates.render`) with facts a real message would carry, so what the owner
sees is what a ticket's people will read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Deployment
from engine.runtime import ProcessEngine

from ..errors import Invalid
from ..notifications import process_texts
from ..notifications.admin import SAMPLE_EXTRAS
from ..notifications.process_texts import FILE, LANGUAGES, PARTS, TextProblem
from ..notifications.templates import TEMPLATES, builtin, render, variables
from . import service
from .models import ProcessDraft

# The ticket facts of the preview (a real message carries the ticket's own; see notifications.service).
SAMPLE_TICKET: dict[str, Any] = {
    "ticket": "T-20261128-0001",
    "urgency": "red",
    "customer": "华东制药 / East China Pharma",
    "problem": "灌装线停机 / filling line stopped",
    "device": "FL-200",
    "due": "2026-11-28T14:30:00+08:00",
    "error": "TimeoutError",
}

Texts = dict[str, dict[str, dict[str, str]]]  # kind -> "zh"/"en" -> {"subject": …, "body": …}


@dataclass(frozen=True)
class Kind:
    """A message kind the tab offers: the variables its texts may use and the built-in wording to start from."""

    name: str
    variables: tuple[str, ...]
    builtin: dict[str, dict[str, str]]  # "zh"/"en" -> {"subject": …, "body": …}


class TextsRefused(Invalid):
    """Texts not saved (or not previewed): ``found`` lists each problem with its kind and field."""

    def __init__(self, found: list[TextProblem]) -> None:
        super().__init__("notification_texts_refused", count=len(found))
        self.found = found


def kinds() -> list[Kind]:
    """Every message kind a process may carry a text for, in the catalogue's order."""
    return [
        Kind(
            name,
            tuple(sorted(variables(name))),
            {language: dict(zip(PARTS, builtin(name, locale), strict=True)) for language, locale in LANGUAGES.items()},
        )
        for name in TEMPLATES
    ]


def draft_texts(files: Mapping[str, str]) -> Texts:
    """What the tab shows of the draft's file: every kind, language and part it can read (empty without a file).

    A hand-made file that is not entirely right is shown as far as it reads; Validate names what is wrong.
    """
    try:
        loaded = json.loads(files[FILE]) if FILE in files else {}
    except ValueError:
        return {}
    if not isinstance(loaded, dict):
        return {}
    texts: Texts = {}
    for kind, languages in loaded.items():
        if not isinstance(languages, dict):
            continue
        texts[kind] = {}
        for language in LANGUAGES:
            text = languages.get(language)
            parts = text if isinstance(text, dict) else {}
            texts[kind][language] = {part: v if isinstance(v := parts.get(part), str) else "" for part in PARTS}
    return texts


def save(session: Session, engine: ProcessEngine, draft_id: int, texts: object, actor: str) -> ProcessDraft:
    """Write ``texts`` into the draft as its ``notifications.json`` once every text passes the file's checks;
    otherwise raise :class:`TextsRefused` and leave the draft as it was.  No kinds at all is an empty file (or
    no file, in a draft that had none)."""
    draft = service.get_draft(session, draft_id)  # 404 before any check
    if texts == {} and FILE not in draft.files:
        return draft  # nothing to carry and nothing carried: no empty file in a process that had none
    text = json.dumps(texts, ensure_ascii=False, indent=2)
    found = process_texts.problems({FILE: text})
    if found:
        raise TextsRefused(found)
    return service.save_draft(session, engine, draft_id, {FILE: text}, actor)


def preview(kind: object, language: object, subject: object, body: object, timezone: str) -> tuple[str, str]:
    """(subject, body) of one text as its reader would get it, on sample facts; a text the file's checks refuse
    raises :class:`TextsRefused` naming its field."""
    lang = language if isinstance(language, str) and language in LANGUAGES else "zh"
    name = kind if isinstance(kind, str) else ""
    one = {"subject": subject, "body": body}
    # The file's own checks, on a file holding this text in both languages; only this language's problems count.
    found = [
        p
        for p in process_texts.problems({FILE: json.dumps({name: dict.fromkeys(LANGUAGES, one)})})
        if p.field.split(".")[0] in ("", lang)
    ]
    if language not in LANGUAGES:
        found.append(TextProblem(name, str(language)[:20], "text_unknown_language", _UNKNOWN_LANGUAGE))
    if found:
        raise TextsRefused(found)
    assert isinstance(subject, str) and isinstance(body, str)  # checked above: a text is two strings
    facts = {**SAMPLE_TICKET, **SAMPLE_EXTRAS}
    return render(name, facts, LANGUAGES[lang], (subject, body), timezone)


_UNKNOWN_LANGUAGE = "unknown language; use zh and en"  # the file check's own msgid


def carried_by(session: Session) -> dict[str, list[str]]:
    """Kind -> the processes whose running version carries a text of its own for it (which then wins over the
    admins' wording for that process's tickets).  Only texts the sandbox accepts count, as when rendering."""
    query = select(Deployment.process_ids, Deployment.files[FILE].as_string()).order_by(
        Deployment.activation.desc(), Deployment.id.desc()
    )
    seen: set[str] = set()
    found: dict[str, set[str]] = {}
    for process_ids, text in session.execute(query):
        running = [p for p in process_ids if p not in seen]
        seen.update(running)
        if not running or text is None:
            continue
        for kind, _locale in process_texts.parsed(text):
            found.setdefault(kind, set()).update(running)
    return {kind: sorted(ids) for kind, ids in found.items()}

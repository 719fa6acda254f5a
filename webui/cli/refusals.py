"""A service's refusal as a command prints it: the sentence in English, then in Chinese, exit 1.

The web says a :class:`processes.errors.DomainError` in the request's language; a command has no
request, so it says both (as ``closeloop kpi`` does).  The sentences are the web's own
(``webui.messages.MESSAGES``), so a refusal reads the same in a terminal and on a page.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from processes.errors import DomainError


@cache
def _chinese() -> Any:
    from babel.support import Translations

    from processes.platform_paths import ROOT

    return Translations.load(str(ROOT / "translations"), ["zh_Hans"])


def _sentence(code: str, params: dict[str, Any], translate: Any) -> str:
    from ..messages import MESSAGES

    template = MESSAGES.get(code)
    msgid = template._args[0] if template is not None and getattr(template, "_args", None) else None
    if msgid is None:
        return f"{code} {params}" if params else code
    text = translate(msgid)
    try:
        return text % params if params else text.replace("%%", "%")
    except (KeyError, TypeError, ValueError):
        return text


def describe(err: DomainError) -> str:
    """The refusal and each field's problem, in English and then in Chinese."""
    lines = []
    for translate in (lambda msgid: msgid, _chinese().gettext):
        parts = [_sentence(err.code, err.params, translate)]
        parts += [f"{p.field}: {_sentence(p.code, p.params, translate)}" for p in err.problems]
        lines.append(" ".join(parts))
    return "\n".join(lines)

"""Language: which one a request speaks, and the bilingual texts that live in diagrams and forms.

Flask-Babel translates our own strings.  Diagrams and form schemas carry their Chinese next to the
English (``x-zh`` on a schema, ``name.zh_Hans`` on a task), because process owners edit them in the
browser and must not need a translation catalogue to add a field.
"""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask_babel import Babel, get_locale
from flask_login import current_user

LOCALES = ("zh_Hans", "en")
COOKIE = "closeloop_lang"


def select_locale() -> str:
    """The user's saved choice, then the cookie, then the browser; Simplified Chinese by default."""
    override = getattr(g, "locale_override", None)
    if override in LOCALES:
        return override
    user = current_user if current_user and getattr(current_user, "is_authenticated", False) else None
    if user is not None and getattr(user, "locale", None) in LOCALES:
        return user.locale
    cookie = request.cookies.get(COOKIE)
    if cookie in LOCALES:
        return cookie
    for language, _quality in request.accept_languages:
        lang = language.lower()
        if lang.startswith("zh"):
            return "zh_Hans"
        if lang.startswith("en"):
            return "en"
    return "zh_Hans"


def init_app(app: Any) -> Babel:
    return Babel(app, locale_selector=select_locale)


def is_zh() -> bool:
    return str(get_locale() or "zh_Hans").startswith("zh")


def lang_code() -> str:
    return "zh-Hans" if is_zh() else "en"


def schema_text(node: dict[str, Any], key: str = "title") -> str:
    """A schema node's title or description in the current language."""
    if is_zh():
        zh = node.get("x-zh", {}).get(key)
        if zh:
            return zh
    return node.get(key, "")


def enum_titles(node: dict[str, Any]) -> list[str]:
    values = [str(v) for v in node.get("enum", [])]
    titles = node.get("x-zh", {}).get("enumTitles") if is_zh() else None
    titles = titles or node.get("x-enumTitles") or values
    return list(titles) + values[len(titles) :]


def task_name(name: str, properties: dict[str, Any]) -> str:
    if is_zh():
        return properties.get("name.zh_Hans") or name
    return name


def task_instructions(properties: dict[str, Any]) -> str:
    return properties.get("instructions.zh_Hans" if is_zh() else "instructions.en") or properties.get(
        "instructions.en", ""
    )

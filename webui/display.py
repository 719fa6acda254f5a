"""How values look to people: local times, and form answers with their labels instead of codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext

from .i18n import enum_titles, schema_text


def local_time(value: datetime | None, timezone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC timestamp in the plant's time zone, as its people read clocks."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(timezone)).strftime(fmt)


def answer(node: dict[str, Any] | None, value: Any, labels: dict[str, dict[str, str]] | None = None) -> str:
    """One form answer as text: the option's label, yes/no, a location, or the value itself.

    ``labels`` names the values of ``x-options`` fields by source (managed data the form does not hold).
    """
    node = node or {}
    source = node.get("x-options")
    if source and labels and value in labels.get(source, {}):
        return labels[source][value]
    if "enum" in node and value in node["enum"]:
        return enum_titles(node)[node["enum"].index(value)]
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, dict) and {"lat", "lon"} <= set(value):
        accuracy = f" ±{round(value['accuracy'])} m" if value.get("accuracy") is not None else ""
        return f"{value['lat']:.5f}, {value['lon']:.5f}{accuracy}"
    if isinstance(value, str) and value.startswith("sha256:"):
        return _file_word(node.get("x-widget"))
    if node.get("x-widget") == "taps" and isinstance(value, list):
        names = [str(tap.get("name") or "") for tap in value if isinstance(tap, dict)]
        return gettext("%(count)s lamps: %(names)s", count=len(names), names=", ".join(n for n in names if n))
    if isinstance(value, list):
        item = node.get("items") if isinstance(node.get("items"), dict) else {}
        return ", ".join(answer(item, v, labels) for v in value if v not in ("", None))
    if isinstance(value, dict):
        # a nested object (not a location): its answered fields with their titles, never a Python dict
        fields = node.get("properties", {})
        return "; ".join(
            f"{schema_text(fields[k]) if k in fields else k}: {answer(fields.get(k), v, labels)}"
            for k, v in value.items()
            if v not in ("", None)
        )
    return str(value)


def _file_word(widget: str | None) -> str:
    """What a stored file answer is, in words: a photo, a video, a recording or a signature."""
    if widget == "video":
        return gettext("video")
    if widget == "audio":
        return gettext("audio recording")
    if widget == "signature":
        return gettext("signature")
    return gettext("photo")


def answers(
    form: dict[str, Any] | None, data: dict[str, Any], labels: dict[str, dict[str, str]] | None = None
) -> list[tuple[str, str]]:
    """(label, text) for every answered field, in the form's order."""
    properties = (form or {}).get("properties", {})
    ordered = [k for k in properties if k in data] + [k for k in data if k not in properties]
    return [
        (schema_text(properties[k]) if k in properties else k, answer(properties.get(k), data[k], labels))
        for k in ordered
        if data[k] not in ("", None)
    ]

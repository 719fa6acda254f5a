"""What the root-cause library pages and the checklist pages share: category labels and posted values."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

CATEGORY_LABELS: dict[str, Any] = {
    "design": _l("Design"),
    "supplier_material": _l("Supplier material"),
    "customer_operation": _l("Customer operation"),
    "spare_parts": _l("Spare parts"),
    "drawing": _l("Drawings"),
    "installation": _l("Installation"),
    "wear": _l("Wear"),
    "other": _l("Other"),
}


def category_label(code: str | None) -> str:
    return str(CATEGORY_LABELS.get(code or "", code or ""))


def posted(names: tuple[str, ...]) -> dict[str, Any]:
    return {name: request.form.get(name) for name in names if name in request.form}

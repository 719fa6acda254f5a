"""Chinese pages speak Chinese: no stored code, no Python value, no raw id where a reader expects a word.

Issue 10 ("Words"): a supervisor reading a zh page saw ``cnc_lathe``, ``east``, ``coolant system``,
a Python list and "工程师: 10".  This walks the pages each role reads while a real ticket has been through
a decline, a rework and an acceptance, takes the text a person sees (not attributes, scripts or code
samples), and looks for the codes the demo plant stores.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from sqlalchemy import select
from support import complete, login, logout, open_ticket, rework_with_lamp_taps

from processes import demo
from processes.accounts.models import User
from processes.tickets.models import Ticket

# Codes stored in the demo plant that have a Chinese label: none may be shown as such on a zh page.
# Skill tags are in the list only where the tag differs from what a Chinese reader is shown.
MODEL_NAMES = " ".join(model for models in demo.MODELS.values() for model in models)
CODES = sorted(
    code
    for code in {*demo.DEVICE_TYPES, *demo.SKILLS, "north", "south", "east", "idle", "en_route", "repairing"}
    | {"skill_mismatch", "too_far", "overloaded", "offered", "assigned", "in_progress", "closed"}
    | {"Agent", "Engineer", "Customer", "Supervisor", "image", "video"}
    # a device model's own name may contain a trade term ("CK6150 (FANUC 0i-TF)", "M1432 spindle grinder")
    if code not in MODEL_NAMES
)
PYTHON_VALUES = re.compile(r"\[['\"{]|\{'|\bNone\b|\bTrue\b|\bFalse\b")
RAW_ID = re.compile(r"(工程师|engineer)\s*[:：]\s*\d+\b")


class VisibleText(HTMLParser):
    """The text a reader sees: no scripts, styles, code samples or hidden templates."""

    SKIP = {"script", "style", "code", "pre", "template", "textarea", "noscript"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth and data.strip():
            self.parts.append(data.strip())


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def problems(text: str) -> list[str]:
    found = []
    for code in CODES:
        if re.search(rf"(?<![\w/.-]){re.escape(code)}(?![\w/.-])", text):
            found.append(code)
    found += [m.group(0) for m in PYTHON_VALUES.finditer(text)]
    found += [m.group(0) for m in RAW_ID.finditer(text)]
    return found


def test_zh_pages_show_labels_never_codes(platform, client) -> None:  # noqa: ANN001
    reworked = rework_with_lamp_taps(platform)
    declined = open_ticket(platform, "orange", device_type="cnc_lathe", text="主轴异响，X轴报警，产线停机", at_least=2)
    complete(platform, declined, "accept_offer", {"decision": "decline", "decline_reason": "too_far"})
    with platform.db.session() as session:
        numbers = [session.get(Ticket, t).number for t in (reworked, declined)]
        for user in session.scalars(select(User)):
            user.locale = "zh_Hans"
        engineer = session.scalar(select(User).where(User.role == "engineer"))
        engineer_name = engineer.username
    pages = {
        "agent": ["/tickets", *(f"/tickets/{n}" for n in numbers), "/tickets/new", "/tasks"],
        "supervisor": ["/tickets", *(f"/tickets/{n}" for n in numbers), "/tasks", "/kpi"],
        "admin": ["/admin", "/admin/engineers", "/admin/map", "/admin/declines"],
        "auditor": ["/audit", *(f"/audit/tickets/{n}" for n in numbers)],
        engineer_name: ["/tasks"],
    }
    # the labels that replace the codes, so the scan cannot pass on pages that lost their content
    expected = {
        ("supervisor", f"/tickets/{numbers[0]}"): ["数控车床", "冷却系统", "个指示灯：alarm", "视频"],
        ("agent", f"/tickets/{numbers[1]}"): ["(工程师)"],
        ("admin", "/admin/engineers"): ["北区组", "东区组"],
        ("auditor", f"/audit/tickets/{numbers[0]}"): ["客户验收？"],
        ("auditor", "/audit"): ["已关闭"],
    }
    found: dict[str, list[str]] = {}
    for username, urls in pages.items():
        login(client, username)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (username, url, response.status_code)
            text = visible(response.get_data(as_text=True))
            bad = problems(text) + [f"missing {w}" for w in expected.get((username, url), []) if w not in text]
            if bad:
                found[f"{username} {url}"] = bad
        logout(client)
    assert not found, "\n".join(f"{page}: {', '.join(sorted(set(codes)))}" for page, codes in found.items())


def test_error_pages_reached_from_a_customer_link_offer_no_staff_login(client) -> None:  # noqa: ANN001
    """A customer who mistypes their link sees the customer's page, in their language, without the staff
    navigation or a login link; a staff URL that does not exist still offers the way back to the start page."""
    for url in ("/c/not-a-token/nowhere", "/c/not-a-token/tasks/x/y", "/c"):
        response = client.get(url, headers={"Accept-Language": "zh-CN"})
        assert response.status_code == 404, url
        html = response.get_data(as_text=True)
        assert 'href="/login' not in html and "nav-tickets" not in html and 'href="/"' not in html, url
        assert "如需帮助" in visible(html), url
    staff = client.get("/tickets-nowhere", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Back to the start page" in staff and "If you need help" not in staff


def test_every_shipped_form_text_has_its_chinese() -> None:
    """A form field's title, description and option titles each have a Chinese text beside the English
    (``x-zh``), in every form a process ships or a template brings: a zh page never shows the English."""
    from processes.platform import ROOT

    def missing(node: dict, where: str) -> list[str]:
        found = []
        zh = node.get("x-zh", {})
        for key in ("title", "description"):
            if node.get(key) and not zh.get(key):
                found.append(f"{where} {key}")
        if node.get("x-enumTitles") and not zh.get("enumTitles"):
            found.append(f"{where} enumTitles")
        for name, child in (node.get("properties") or {}).items():
            found += missing(child, f"{where}.{name}")
        if isinstance(node.get("items"), dict):
            found += missing(node["items"], f"{where}[]")
        return found

    import json

    forms = sorted(ROOT.glob("bpmn_models/**/*.schema.json"))
    assert len(forms) >= 7
    problems = [p for path in forms for p in missing(json.loads(path.read_text()), path.name)]
    assert not problems, problems

"""The admins' message-template pages say which processes carry their own text for a kind (issue 12 §4).

A process whose running version carries a text for a message kind replaces the admins' wording for its tickets;
the pages name those processes, in Chinese and in English, and stop naming one once its running version no longer
carries the text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from support import login

from engine.deployments import read_models

FILE = "notifications.json"
JOB = {
    "zh": {"subject": "新派工 {{ ticket }}", "body": "{{ customer }}：{{ problem }}"},
    "en": {"subject": "New job {{ ticket }}", "body": "{{ customer }}: {{ problem }}"},
}
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def _deploy(platform: Any, texts: dict[str, Any] | None) -> None:
    files = read_models(platform.settings.models_dir)
    if texts is not None:
        files[FILE] = json.dumps(texts, ensure_ascii=False)
    with platform.db.session() as session, session.begin():
        platform.engine.deployments.deploy(session, files, "test")


def _note(page: str, kind: str) -> str | None:
    match = re.search(rf'<small class="process-texts" data-kind="{kind}">(.*?)</small>', page, re.S)
    return match.group(1) if match else None


def test_the_wording_pages_name_the_processes_carrying_their_own_text(platform, client) -> None:
    login(client, "admin")
    assert _note(client.get("/admin/outbox/templates", headers=EN).get_data(as_text=True), "job_offered") is None

    _deploy(platform, {"job_offered": JOB, "urgent_ticket": {"zh": JOB["zh"]}})  # urgent_ticket: unusable text
    page = client.get("/admin/outbox/templates", headers=EN).get_data(as_text=True)
    note = _note(page, "job_offered")
    assert note is not None and "carry their own text" in note and "ticket_lifecycle" in note, note
    assert _note(page, "urgent_ticket") is None  # a text the checks refuse is not used, so it replaces nothing
    assert _note(page, "engineer_assigned") is None
    zh = _note(client.get("/admin/outbox/templates", headers=ZH).get_data(as_text=True), "job_offered")
    assert zh is not None and "流程" in zh and "ticket_lifecycle" in zh, zh
    edit = client.get("/admin/outbox/templates/job_offered/en", headers=EN).get_data(as_text=True)
    assert 'id="process-texts"' in edit and "ticket_lifecycle" in edit
    other = client.get("/admin/outbox/templates/engineer_assigned/en", headers=EN).get_data(as_text=True)
    assert 'id="process-texts"' not in other

    _deploy(platform, None)  # the running version carries no texts any more
    page = client.get("/admin/outbox/templates", headers=EN).get_data(as_text=True)
    assert _note(page, "job_offered") is None

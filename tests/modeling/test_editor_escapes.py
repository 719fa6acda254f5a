"""Issue 12 security: sandbox escapes typed into the editor are refused at deploy and at run time.

Every expression attack of :data:`bench.bombs.BOMBS` (dunder traversal, ``__import__``, format-string
widths, huge powers and allocations, deep nesting, attribute chains, …) is written as the condition of
the lifecycle's ``accept`` branch in a draft, saved and deployed through the editor's own endpoint: the
deploy is refused naming the gateway, nothing is deployed, and the same text evaluated the way a running
ticket evaluates a condition is refused too.  The attacks that read task data or the clock (``now``) can
only be refused when they run (their size depends on the data); ``tests/engine/test_bombs.py`` covers
them, and they are listed here so that a new attack is not silently left out of this test.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import func, select
from support import csrf_token, login

from bench.bombs import BOMBS, NOW
from engine.expressions import ExpressionError, evaluate
from engine.models import Deployment

RUN_TIME_ONLY = {
    "add-duration-years",
    "add-duration-weeks",
    "record-unpack",
    "data-sum",
    "data-str",
    "data-max",
    "data-equal",
    "data-in",
    "data-concat",
}
ESCAPES = [b for b in BOMBS if b.kind == "expression" and b.id not in RUN_TIME_ONLY]
CONDITION = "<bpmn:conditionExpression>decision == &quot;accept&quot;</bpmn:conditionExpression>"
LIFECYCLE = "ticket_lifecycle.bpmn"


def test_the_list_keeps_at_least_thirty_escapes_and_every_expression_attack_is_accounted_for() -> None:
    assert len(ESCAPES) >= 30
    expression_ids = {b.id for b in BOMBS if b.kind == "expression"}
    assert expression_ids >= RUN_TIME_ONLY  # a renamed attack must not drop out unnoticed


@pytest.fixture
def draft(platform: Any, client: Any) -> tuple[Any, int, str, dict[str, str]]:
    login(client, "owner")
    headers = {"Accept-Language": "en", "X-CSRFToken": csrf_token(client, "/owner/processes")}
    response = client.post("/owner/processes/ticket_lifecycle/drafts", headers=headers)
    draft_id = int(response.headers["Location"].rsplit("/", 1)[1])
    bpmn = client.get(f"/owner/drafts/{draft_id}/files/{LIFECYCLE}").get_data(as_text=True)
    if CONDITION not in bpmn:  # bpmn-js writes quotes unescaped in text; the shipped file may too
        bpmn = bpmn.replace('<bpmn:conditionExpression>decision == "accept"</bpmn:conditionExpression>', CONDITION)
    assert bpmn.count(CONDITION) == 1
    return client, draft_id, bpmn, headers


def test_each_escape_is_refused_at_deploy_through_the_editor_and_at_run_time(platform: Any, draft: Any) -> None:
    client, draft_id, bpmn, headers = draft
    with platform.db.session() as session:
        deployments = session.scalar(select(func.count()).select_from(Deployment))
    not_refused: list[str] = []
    for bomb in ESCAPES:
        attacked = bpmn.replace(CONDITION, f"<bpmn:conditionExpression>{escape(bomb.text)}</bpmn:conditionExpression>")
        saved = client.post(f"/owner/drafts/{draft_id}/save", json={"files": {LIFECYCLE: attacked}}, headers=headers)
        assert saved.status_code == 200, (bomb.id, saved.get_data(as_text=True)[:300])
        response = client.post(f"/owner/drafts/{draft_id}/deploy", json={"note": bomb.id}, headers=headers)
        problems = (response.get_json() or {}).get("problems") or []
        if response.status_code != 422 or "gw_accept" not in [p["element_id"] for p in problems]:
            not_refused.append(f"{bomb.id}: deploy answered {response.status_code} {problems[:1]}")
        with pytest.raises(ExpressionError):
            evaluate(bomb.text, {**bomb.data(), "now": NOW})
    assert not_refused == []
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Deployment)) == deployments

"""Prevention suggestions grouped by device model and root cause, promoted to checklists (brief E6).

A promotion is appended to the source ticket's tamper-evident journal in the same transaction; a
suggestion goes on a given checklist at most once; refusals change nothing.
"""

from __future__ import annotations

import re
from typing import Any

from rootcause_support import EN, ZH, closed_ticket, field_error, post, two_models
from sqlalchemy import select
from support import login, logout, snapshot

from engine import journal
from engine.models import JournalEvent, ProcessInstance
from processes.devices.models import Device
from processes.rootcauses import checklists
from processes.rootcauses.models import Checklist, ChecklistItem
from processes.tickets.models import Ticket


def test_suggestions_are_grouped_by_model_and_cause_and_filtered(platform, client) -> None:  # noqa: ANN001
    first, second = two_models(platform)
    for text_ in ("定期润滑", "每周检查润滑油位", "更换密封圈"):
        closed_ticket(platform, first[0], "wear", text_)
    closed_ticket(platform, first[-1], "installation", "安装后复紧地脚螺栓")
    closed_ticket(platform, second[0], "wear", "检查导轨磨损")
    closed_ticket(platform, second[0], "wear", "尚未关闭的建议", closed=False)
    closed_ticket(platform, second[0], "wear", "")
    with platform.db.session() as session:
        model_a, model_b = session.get(Device, first[0]).model, session.get(Device, second[0]).model
        groups = checklists.suggestions(session)
        assert [(g.device_model, g.root_cause, g.count) for g in groups][0] == (model_a, "wear", 3)
        assert {(g.device_model, g.root_cause, g.count) for g in groups} == {
            (model_a, "wear", 3),
            (model_a, "installation", 1),
            (model_b, "wear", 1),
        }
        assert [(g.device_model, g.count) for g in checklists.suggestions(session, cause="wear")] == [
            (model_a, 3),
            (model_b, 1),
        ]
        assert [g.root_cause for g in checklists.suggestions(session, model=model_a)] == ["wear", "installation"]
        assert checklists.filter_choices(session) == (sorted([model_a, model_b]), ["installation", "wear"])

    login(client, "supervisor")
    page = client.get("/suggestions", headers=ZH).get_data(as_text=True)
    assert "共 5 条建议" in page and "尚未关闭的建议" not in page
    assert re.search(r'data-cause="wear">\s*<header><strong>[^<]+</strong> · 正常磨损', page)
    page = client.get("/suggestions", query_string={"model": model_b, "cause": "wear"}, headers=EN)
    text_ = page.get_data(as_text=True)
    assert "1 suggestions" in text_ and "检查导轨磨损" in text_ and "定期润滑" not in text_
    assert "Normal wear" in text_
    page = client.get("/suggestions", query_string={"cause": "drawing_error"}, headers=EN).get_data(as_text=True)
    assert "No suggestions match the filter." in page


def journal_of(platform, ticket_id: int) -> tuple[list[JournalEvent], Any]:  # noqa: ANN001
    with platform.db.session() as session:
        instance = session.get(ProcessInstance, session.get(Ticket, ticket_id).process_instance_id)
        events = list(journal.events(session, instance.id))
        return events, journal.verify(session, instance.id, instance.journal_head)


def test_promoting_a_suggestion_is_journaled_on_the_ticket(platform, client) -> None:  # noqa: ANN001
    first, second = two_models(platform)
    lubricate = closed_ticket(platform, first[0], "wear", "定期润滑")
    bolts = closed_ticket(platform, second[0], "installation", "安装后复紧地脚螺栓")
    login(client, "supervisor")
    response = post(
        client, f"/suggestions/{lubricate}/promote", {"new_checklist": "工厂巡检清单2026"}, form_url="/suggestions"
    )
    assert response.status_code == 303 and f"#suggestion-{lubricate}" in response.headers["Location"]
    with platform.db.session() as session:
        (item,) = session.scalars(select(ChecklistItem))
        listed = session.get(Checklist, item.checklist_id)
        model = session.get(Device, first[0]).model
        assert (listed.name, listed.created_by) == ("工厂巡检清单2026", "supervisor")
        assert (item.text, item.device_model, item.root_cause, item.promoted_by) == (
            "定期润滑",
            model,
            "wear",
            "supervisor",
        )
        assert item.promoted_at == platform.engine.clock.now()
        checklist_id = listed.id
    events, broken = journal_of(platform, lubricate)
    assert broken is None  # the chain still verifies with the annotation on it
    promoted = events[-1]
    assert (promoted.kind, promoted.actor) == ("suggestion_promoted", "supervisor")
    assert promoted.input["checklist"] == "工厂巡检清单2026" and promoted.input["text"] == "定期润滑"
    assert promoted.input["checklist_id"] == checklist_id and promoted.input["root_cause"] == "wear"

    # The second promotion chooses the now existing checklist; both show on the checklist page.
    platform.engine.clock.advance(minutes=5)
    response = post(
        client, f"/suggestions/{bolts}/promote", {"checklist_id": str(checklist_id)}, form_url="/suggestions"
    )
    assert response.status_code == 303
    page = client.get(f"/checklists/{checklist_id}", headers=ZH).get_data(as_text=True)
    assert "定期润滑" in page and "安装后复紧地脚螺栓" in page and "正常磨损" in page and "安装问题" in page
    assert "共 2 项" in page
    page = client.get("/checklists", headers=EN).get_data(as_text=True)
    assert re.search(r"工厂巡检清单2026</a></td>\s*<td class=\"item-count\">2<", page)
    page = client.get("/suggestions", query_string={"promoted": checklist_id}, headers=EN).get_data(as_text=True)
    assert "Put on the checklist 工厂巡检清单2026." in page and page.count('class="badge on-checklist"') == 2

    # The ticket's timeline shows the promotion, in both languages; the customer's page does not.
    with platform.db.session() as session:
        ticket = session.get(Ticket, lubricate)
        number, link = ticket.number, platform.links.token(ticket)
    page = client.get(f"/tickets/{number}", headers=ZH).get_data(as_text=True)
    assert 'data-kind="suggestion_promoted"' in page and "预防建议已纳入检查清单“工厂巡检清单2026”" in page
    page = client.get(f"/tickets/{number}", headers=EN).get_data(as_text=True)
    assert "Prevention suggestion put on the checklist 工厂巡检清单2026" in page
    logout(client)
    assert "suggestion_promoted" not in client.get(f"/c/{link}").get_data(as_text=True)


def test_promoting_twice_or_without_a_checklist_is_refused_and_changes_nothing(platform, client) -> None:  # noqa: ANN001
    first, _second = two_models(platform)
    lubricate = closed_ticket(platform, first[0], "wear", "定期润滑")
    still_open = closed_ticket(platform, first[0], "wear", "还没关闭", closed=False)
    login(client, "supervisor")
    assert (
        post(
            client,
            f"/suggestions/{lubricate}/promote",
            {"new_checklist": "Factory inspection list 2026"},
            form_url="/suggestions",
        ).status_code
        == 303
    )
    with platform.db.session() as session:
        checklist_id = session.scalar(select(Checklist.id))
    before = snapshot(platform)

    for data in ({"checklist_id": str(checklist_id)}, {"new_checklist": "  FACTORY inspection list 2026 "}):
        response = post(client, f"/suggestions/{lubricate}/promote", data, headers=EN, form_url="/suggestions")
        page = response.get_data(as_text=True)
        assert response.status_code == 409
        with platform.db.session() as session:
            number = session.get(Ticket, lubricate).number
        assert f"The suggestion of {number} is already on the checklist Factory inspection list 2026." in page
        assert snapshot(platform) == before
    response = post(
        client,
        f"/suggestions/{lubricate}/promote",
        {"checklist_id": str(checklist_id)},
        headers=ZH,
        form_url="/suggestions",
    )
    assert response.status_code == 409 and "已在检查清单“Factory inspection list 2026”中" in response.get_data(
        as_text=True
    )

    cases = [
        ({}, "checklist_id", "Choose a checklist or name a new one."),
        (
            {"checklist_id": str(checklist_id), "new_checklist": "Other"},
            "new_checklist",
            "Choose an existing checklist or name a new one, not both.",
        ),
        ({"checklist_id": "99999"}, "checklist_id", "Choose one of the listed options."),
        ({"checklist_id": "abc"}, "checklist_id", "Enter a whole number."),
        ({"new_checklist": "L" * 121}, "new_checklist", "At most 120 characters; this has 121."),
    ]
    for data, name, expected in cases:
        response = post(client, f"/suggestions/{lubricate}/promote", data, headers=EN, form_url="/suggestions")
        page = response.get_data(as_text=True)
        assert response.status_code == 422, data
        assert field_error(page, name) == expected
        assert snapshot(platform) == before
    for ticket_id in (still_open, 99999):
        response = post(client, f"/suggestions/{ticket_id}/promote", {"new_checklist": "X"}, form_url="/suggestions")
        assert response.status_code == 404
    assert snapshot(platform) == before
    events, broken = journal_of(platform, lubricate)
    assert broken is None and [e.kind for e in events].count("suggestion_promoted") == 1


def test_checklists_are_created_with_unique_names(platform, client) -> None:  # noqa: ANN001
    login(client, "supervisor")
    response = post(client, "/checklists", {"name": "Design review 2026"})
    assert response.status_code == 303
    before = snapshot(platform)
    for name, expected in (
        ("design REVIEW 2026", "design REVIEW 2026 already exists."),
        ("", "This field is required."),
    ):
        response = post(client, "/checklists", {"name": name}, headers=EN)
        assert response.status_code == 422
        assert field_error(response.get_data(as_text=True), "name") == expected
        assert snapshot(platform) == before
    response = post(client, "/checklists", {"name": ""}, headers=ZH)
    assert field_error(response.get_data(as_text=True), "name") == "此项为必填项。"
    assert client.get("/checklists/99999").status_code == 404
    page = client.get("/checklists", headers=ZH).get_data(as_text=True)
    assert "Design review 2026" in page and "新建检查清单" in page

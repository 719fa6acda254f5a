"""The root-cause library (brief E3): supervisors manage the causes engineers choose from at close-out.

The desk refuses a cause that is not (or no longer) in the library; pages show causes by name in the
reader's language; the migration names the old codes on installations that already have tickets.
Suggestions and checklists (E6) are tested in test_checklists.py.
"""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from typing import Any

import pytest
from rootcause_support import EN, ZH, closed_ticket, field_error, post, two_models
from sqlalchemy import create_engine, select, text
from support import complete, csrf_token, drain, login, open_ticket, snapshot

from processes.errors import Invalid
from processes.rootcauses import service
from processes.rootcauses.models import RootCause
from processes.tickets.models import Ticket
from processes.tickets.tasks import Actor
from webui.cli import upgrade_database

# -- library ------------------------------------------------------------------------------------------


def test_the_seeded_library_lists_usage_counts_in_both_languages(platform, client) -> None:  # noqa: ANN001
    first, _second = two_models(platform)
    for _ in range(2):
        closed_ticket(platform, first[0], "wear", "定期润滑")
    closed_ticket(platform, first[0], "installation", "安装后复紧地脚螺栓")
    with platform.db.session() as session:
        assert [o.value for o in platform.desk.options.options(session, "root_causes")] == [
            "design_margin",
            "supplier_material",
            "customer_misoperation",
            "spare_part_missing",
            "drawing_error",
            "installation",
            "wear",
        ]
        assert service.usage_counts(session) == {"wear": 2, "installation": 1}

    login(client, "supervisor")
    page = client.get("/root-causes", headers=ZH).get_data(as_text=True)
    assert "正常磨损" in page and "根因库" in page and "磨损" in page
    assert re.search(r'data-code="wear".*?data-count="2"', page, re.S)
    assert re.search(r'data-code="installation".*?data-count="1"', page, re.S)
    assert re.search(r'data-code="design_margin".*?data-count="0"', page, re.S)
    page = client.get("/root-causes", headers=EN).get_data(as_text=True)
    assert "Normal wear" in page and "Root causes" in page and "Supplier material" in page


@pytest.mark.parametrize("username", ["agent", "engineer", "auditor", "owner"])
def test_only_supervisors_and_admins_may_open_the_pages(platform, client, username) -> None:  # noqa: ANN001
    if username == "engineer":
        username = "zhangwei"
    ticket_id = closed_ticket(platform, two_models(platform)[0][0], "wear", "定期润滑")
    login(client, username)
    token = csrf_token(client, "/tickets")
    before = snapshot(platform)
    for url in ("/root-causes", "/root-causes/new", "/root-causes/wear/edit", "/suggestions", "/checklists"):
        assert client.get(url).status_code == 403, url
    for url, data in (
        ("/root-causes/new", {"code": "x", "name_en": "X", "name_zh": "叉", "category": "other"}),
        ("/root-causes/wear/deactivate", {}),
        ("/checklists", {"name": "L"}),
        (f"/suggestions/{ticket_id}/promote", {"new_checklist": "L"}),
    ):
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 403, url
    assert snapshot(platform) == before
    page = client.get("/tickets").get_data(as_text=True)
    assert "/root-causes" not in page and "/checklists" not in page


def test_anonymous_visitors_are_sent_to_log_in_and_admins_may_enter(client) -> None:  # noqa: ANN001
    response = client.get("/root-causes")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, "admin")
    assert client.get("/root-causes").status_code == 200
    assert 'id="nav-root-causes"' in client.get("/tickets").get_data(as_text=True)


def test_a_supervisor_adds_edits_and_switches_off_a_cause(platform, client) -> None:  # noqa: ANN001
    login(client, "supervisor")
    response = post(
        client,
        "/root-causes/new",
        {
            "code": "coolant_contamination",
            "name_en": "Coolant contamination",
            "name_zh": "冷却液污染",
            "category": "customer_operation",
        },
    )
    assert response.status_code == 303
    with platform.db.session() as session:
        options = {o.value: o for o in platform.desk.options.options(session, "root_causes")}
        assert options["coolant_contamination"].label(True) == "冷却液污染"
        assert options["coolant_contamination"].label(False) == "Coolant contamination"

    response = post(
        client,
        "/root-causes/coolant_contamination/edit",
        {
            "name_en": "Contaminated coolant",
            "name_zh": "冷却液被污染",
            "category": "wear",
            "active": "1",
            "code": "sneaky_rename",
        },
    )
    assert response.status_code == 303
    with platform.db.session() as session:
        row = session.scalar(select(RootCause).where(RootCause.name_en == "Contaminated coolant"))
        assert (row.code, row.name_zh, row.category, row.active) == (
            "coolant_contamination",
            "冷却液被污染",
            "wear",
            True,
        )

    assert post(client, "/root-causes/coolant_contamination/deactivate", {}, form_url="/root-causes").status_code == 303
    with platform.db.session() as session:
        assert "coolant_contamination" not in {o.value for o in platform.desk.options.options(session, "root_causes")}
        assert service.names(session, True)["coolant_contamination"] == "冷却液被污染"  # old tickets keep a name
    page = client.get("/root-causes", headers=EN).get_data(as_text=True)
    assert re.search(r'data-code="coolant_contamination" class="inactive"', page)
    assert post(client, "/root-causes/coolant_contamination/activate", {}, form_url="/root-causes").status_code == 303
    with platform.db.session() as session:
        assert "coolant_contamination" in {o.value for o in platform.desk.options.options(session, "root_causes")}
    assert post(client, "/root-causes/nope/deactivate", {}, form_url="/root-causes").status_code == 404
    assert client.get("/root-causes/nope/edit").status_code == 404


def test_bad_library_input_names_each_field_and_changes_nothing(platform, client) -> None:  # noqa: ANN001
    login(client, "supervisor")
    before = snapshot(platform)
    response = post(
        client,
        "/root-causes/new",
        {"code": "Bad Code!", "name_en": "", "name_zh": "轴" * 121, "category": "weather"},
        headers=EN,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Some fields need your attention." in page
    assert field_error(page, "code") == "Lower-case letters, digits and underscore, e.g. cnc_lathe."
    assert field_error(page, "name_en") == "This field is required."
    assert field_error(page, "name_zh") == "At most 120 characters; this has 121."
    assert field_error(page, "category") == "Choose one of the listed options."
    assert 'value="Bad Code!"' in page  # what was typed is shown again
    assert snapshot(platform) == before

    response = post(
        client,
        "/root-causes/new",
        {"code": "wear", "name_en": "normal WEAR", "name_zh": "正常磨损", "category": "wear"},
        headers=ZH,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "有些字段需要修改" in page
    for name, value in (("code", "wear"), ("name_en", "normal WEAR"), ("name_zh", "正常磨损")):
        assert value in field_error(page, name)
    assert snapshot(platform) == before

    response = post(
        client,
        "/root-causes/wear/edit",
        {"name_en": "", "name_zh": "设计余量不足", "category": "wear", "active": "1"},
        headers=EN,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(page, "name_en") == "This field is required."
    assert field_error(page, "name_zh").endswith("already exists.")
    assert snapshot(platform) == before


# -- close-out against the library ---------------------------------------------------------------------


def at_close_out(platform) -> tuple[int, str]:  # noqa: ANN001
    """A ticket accepted and arrived on site: (ticket id, close-out task id)."""
    ticket_id = open_ticket(platform, "red", "cnc_lathe", "X轴伺服报警")
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    complete(platform, ticket_id, "on_site")
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        (view,) = [v for v in platform.desk.for_ticket(session, ticket) if v.spec_name == "close_out"]
        return ticket_id, view.id


def test_close_out_refuses_an_unknown_or_switched_off_cause(platform, client) -> None:  # noqa: ANN001
    ticket_id, task_id = at_close_out(platform)
    with platform.db.session() as session:
        service.set_active(session, "wear", False)
    before = snapshot(platform)
    for cause in ("made_up", "wear"):
        with pytest.raises(Invalid) as refused, platform.db.session() as session:
            ticket = session.get(Ticket, ticket_id)
            platform.desk.complete(
                session,
                Actor(user=ticket.engineer.user),
                task_id,
                {"root_cause": cause, "prevention_suggestion": "定期润滑", "fixed_first_time": True},
            )
        # The cause, and in the same answer the form's own problems: no evidence was attached.
        assert [(p.field, p.code) for p in refused.value.problems] == [
            ("root_cause", "choice"),
            *((f, "required") for f in ("fault_photo", "repair_photo", "running_photo", "running_video")),
        ]
        assert snapshot(platform) == before

    with platform.db.session() as session:
        engineer = session.get(Ticket, ticket_id).engineer.user.username
    login(client, engineer)  # engineers read Chinese
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    options = re.search(r'<select name="root_cause".*?</select>', page, re.S).group(0)
    assert "设计余量不足" in options and "正常磨损" not in options  # switched off: not offered
    response = post(
        client,
        f"/tasks/{task_id}",
        {"root_cause": "made_up", "prevention_suggestion": "定期润滑", "fixed_first_time": "true"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    field = page[page.index('data-field="root_cause"') :]
    assert "请从列出的选项中选择。" in field[: field.index('data-field="', 20)]
    response = post(
        client, f"/tasks/{task_id}", {"root_cause": "", "prevention_suggestion": "定期润滑", "fixed_first_time": "true"}
    )
    page = response.get_data(as_text=True)
    field = page[page.index('data-field="root_cause"') :]
    assert response.status_code == 422 and "此项为必填项。" in field[: field.index('data-field="', 20)]
    # nothing changed but the engineer's own draft of the form, kept so a refusal loses nothing typed (issue 10)
    after = snapshot(platform)
    (draft,) = after.pop("task_draft")
    # (id, task, user, values, at); the values read back as JSON text (SQLite) or as a dict's repr (PostgreSQL)
    assert ast.literal_eval(draft[3])["prevention_suggestion"] == "定期润滑"
    assert after == {name: rows for name, rows in before.items() if name != "task_draft"}


def test_a_cause_added_to_the_library_closes_out_and_shows_by_name(platform, client) -> None:  # noqa: ANN001
    from support import close_out_evidence

    with platform.db.session() as session:
        service.save(
            session,
            {
                "code": "coolant_contamination",
                "name_en": "Coolant contamination",
                "name_zh": "冷却液污染",
                "category": "customer_operation",
            },
        )
    ticket_id, task_id = at_close_out(platform)
    evidence = close_out_evidence(platform, ticket_id)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        platform.desk.complete(
            session,
            Actor(user=ticket.engineer.user),
            task_id,
            {
                "root_cause": "coolant_contamination",
                "prevention_suggestion": "每月更换冷却液",
                "fixed_first_time": True,
                **evidence,
            },
        )
    drain(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.root_cause == "coolant_contamination"
        number = ticket.number
    login(client, "supervisor")
    page = client.get(f"/tickets/{number}", headers=ZH).get_data(as_text=True)
    assert re.search(r'id="ticket-root-cause"[^>]*>冷却液污染 — 每月更换冷却液', page)
    assert "主要根因: 冷却液污染" in page  # the timeline's answers, by name too
    page = client.get(f"/tickets/{number}", headers=EN).get_data(as_text=True)
    assert re.search(r'id="ticket-root-cause"[^>]*>Coolant contamination — ', page)


# -- migration ------------------------------------------------------------------------------------------


def _filler(column: Any) -> Any:
    """Some value of the column's type, for a row only the migration's row count looks at."""
    from datetime import UTC, date, datetime

    try:
        kind = column.type.python_type
    except NotImplementedError:
        kind = str

    return {
        int: 1,
        float: 1.0,
        bool: False,
        str: "x",
        dict: "{}",
        list: "[]",
        datetime: datetime(2026, 1, 1, tzinfo=UTC),
        date: date(2026, 1, 1),
        timedelta: timedelta(0),
    }.get(kind, "x")


@pytest.mark.parametrize("in_use", [False, True])
def test_the_migration_names_the_old_codes_on_an_installation_with_tickets(empty_database_url, in_use) -> None:  # noqa: ANN001
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import MetaData

    from processes.platform import ROOT

    url = empty_database_url
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "0004")
    engine = create_engine(url)
    if in_use:
        metadata = MetaData()
        metadata.reflect(engine, only=["customer", "site", "ticket"])
        with engine.begin() as connection:
            for name in ("customer", "site", "ticket"):
                table = metadata.tables[name]
                connection.execute(
                    table.insert().values(
                        {c.name: _filler(c) for c in table.columns if not c.nullable and not c.primary_key}
                    )
                )
                connection.execute(text(f"UPDATE {name} SET id = 1"))
    upgrade_database(url)
    with engine.connect() as connection:
        codes = [r[0] for r in connection.execute(text("SELECT code FROM root_cause ORDER BY id"))]
    engine.dispose()
    assert codes == ([code for code, *_ in service.SEED] if in_use else [])

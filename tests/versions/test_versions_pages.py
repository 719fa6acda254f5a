"""The owner's pages: versions, dry run, migration and impact preview, through the app and a real worker."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from impact_history import History
from sqlalchemy import select
from support import csrf_token, drain, login, open_ticket

from engine.deployments import read_models
from engine.models import ProcessInstance
from processes.platform import Platform
from processes.tickets.models import Ticket
from processes.versions.models import OwnerJob

VERSIONS = "/owner/processes/ticket_lifecycle/versions"
IMPACT = "/owner/processes/ticket_lifecycle/impact"


def deploy_variant(platform: Platform) -> int:
    files = read_models(platform.settings.models_dir)
    files["ticket_lifecycle.bpmn"] = files["ticket_lifecycle.bpmn"].replace(
        'name="Arrive on site"', 'name="Arrive at the site"'
    )
    with platform.db.session() as session:
        return platform.engine.deployments.deploy(session, files, "owner").id


def test_dry_run_and_migrate_all_through_the_pages(platform: Platform, client) -> None:  # noqa: ANN001
    ticket_id = open_ticket(platform, "yellow")
    target = deploy_variant(platform)
    login(client, "owner")
    page = client.get(f"{VERSIONS}?target={target}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="dry-run"' in text and 'data-movable="yes"' in text
    token = csrf_token(client, VERSIONS)
    refused = client.post("/owner/processes/ticket_lifecycle/migrations", data={"csrf_token": token, "scope": "all"})
    assert refused.status_code == 422 and 'data-field="version"' in refused.get_data(as_text=True)
    moved = client.post(
        "/owner/processes/ticket_lifecycle/migrations",
        data={"csrf_token": token, "scope": "all", "version": str(target)},
    )
    assert moved.status_code == 303
    job_url = moved.headers["Location"]
    drain(platform)
    fragment = client.get(f"{job_url}/fragment").get_data(as_text=True)
    assert 'data-state="done"' in fragment and 'data-outcome="moved"' in fragment
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert session.get(ProcessInstance, ticket.process_instance_id).deployment_id == target


def test_delete_refused_with_the_reason_in_the_users_language(platform: Platform, client) -> None:  # noqa: ANN001
    open_ticket(platform, "yellow")
    with platform.db.session() as session:
        source = session.scalar(select(ProcessInstance.deployment_id))
    deploy_variant(platform)
    login(client, "owner")
    token = csrf_token(client, VERSIONS)
    response = client.post(f"{VERSIONS}/delete", data={"csrf_token": token, "version": str(source)})
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and "有 1 张工单正在该版本上运行" in text  # the owner reads Chinese
    response = client.post(f"{VERSIONS}/retire", data={"csrf_token": token, "version": ""})
    assert response.status_code == 422 and 'data-field="version"' in response.get_data(as_text=True)


def test_impact_preview_from_an_uploaded_table_runs_in_a_job(platform: Platform, client) -> None:  # noqa: ANN001
    now = platform.engine.clock.now()
    with platform.db.session() as session:
        h = History(session)
        h.ticket("red", now - timedelta(days=5), due_in=timedelta(minutes=30), on_site_after=timedelta(minutes=45))
    files = read_models(platform.settings.models_dir)
    table = files["urgency_response.dmn"].replace(
        '"Literal_red_duration"><text>"PT30M"', '"Literal_red_duration"><text>"PT1H"'
    )
    login(client, "owner")
    token = csrf_token(client, IMPACT)
    bad = client.post(IMPACT, data={"csrf_token": token, "days": "abc"}, content_type="multipart/form-data")
    assert bad.status_code == 422 and 'data-field="draft"' in bad.get_data(as_text=True)
    bad = client.post(
        IMPACT,
        data={"csrf_token": token, "days": "0", "files": (io.BytesIO(table.encode()), "urgency_response.dmn")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and 'data-field="days"' in bad.get_data(as_text=True)
    with platform.db.session() as session:
        assert session.scalar(select(OwnerJob)) is None  # refused requests queue nothing
    started = client.post(
        IMPACT,
        data={"csrf_token": token, "days": "90", "files": (io.BytesIO(table.encode()), "urgency_response.dmn")},
        content_type="multipart/form-data",
    )
    assert started.status_code == 303
    drain(platform)
    fragment = client.get(f"{started.headers['Location']}/fragment").get_data(as_text=True)
    breaches = re.search(r'id="impact-breaches".*?class="before">(\d+)<.*?class="after">(\d+)<', fragment, re.S)
    assert breaches and breaches.groups() == ("1", "0")


def test_the_editors_draft_previews_its_impact_from_its_own_tab(platform: Platform, client) -> None:  # noqa: ANN001
    from processes.modeling import service as modeling

    now = platform.engine.clock.now()
    with platform.db.session() as session:
        h = History(session)
        h.ticket("red", now - timedelta(days=5), due_in=timedelta(minutes=30), on_site_after=timedelta(minutes=45))
        draft = modeling.start_draft(session, platform.engine, "ticket_lifecycle", "owner")
        files = dict(draft.files)
        files["urgency_response.dmn"] = files["urgency_response.dmn"].replace(
            '"Literal_red_duration"><text>"PT30M"', '"Literal_red_duration"><text>"PT1H"'
        )
        draft.files = files
        draft_id = draft.id
    login(client, "owner")
    editor = client.get(f"/owner/drafts/{draft_id}").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" id="tab-impact"', editor)
    assert link, "the editor's tabs link to the draft's impact preview"
    url = link.group(1).replace("&amp;", "&")
    page = client.get(url).get_data(as_text=True)
    assert f'<option value="{draft_id}" selected>' in page
    started = client.post(IMPACT, data={"csrf_token": csrf_token(client, url), "days": "90", "draft": str(draft_id)})
    assert started.status_code == 303
    drain(platform)
    fragment = client.get(f"{started.headers['Location']}/fragment").get_data(as_text=True)
    breaches = re.search(r'id="impact-breaches".*?class="before">(\d+)<.*?class="after">(\d+)<', fragment, re.S)
    assert breaches and breaches.groups() == ("1", "0")

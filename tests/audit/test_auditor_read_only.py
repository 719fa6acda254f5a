"""Auditors change nothing (issue 13): every route that takes anything but GET, requested by an auditor
with a valid CSRF token (pages) or the auditor's bearer token (API), is refused with 403 before its view
runs, and no table changes.  Logging in and out and the page language are the only exceptions."""

from __future__ import annotations

from typing import Any

from support import bearer, csrf_token, login, snapshot
from test_access_matrix import TABLE, build_world, routes, url_for_rule

OPEN = ("/login", "/logout", "/lang/<code>")


def test_every_write_route_refuses_an_auditor_and_changes_nothing(platform, app) -> None:  # noqa: ANN001
    world = build_world(platform)
    client = app.test_client()
    login(client, world.usernames["auditor"])
    token = csrf_token(client, "/tickets")
    headers = bearer(platform, world.usernames["auditor"])
    before = snapshot(platform)
    walked, wrong = [], []
    for method, rule in routes(app):
        if method in ("GET", "HEAD", "OPTIONS") or rule.rule in OPEN:
            continue
        url = url_for_rule(rule, world, "auditor")
        response = _send(client, method, url, token, headers)
        walked.append(f"{method} {rule.rule}")
        if response.status_code != 403:
            wrong.append(f"{method} {rule.rule}: {response.status_code}")
    # every page form and API write the reviewed route table knows, not a handful
    assert len(walked) == len([r for m, r in TABLE if m != "GET" and r not in OPEN]) > 20
    assert wrong == []
    assert snapshot(platform) == before


def _send(client: Any, method: str, url: str, token: str, headers: dict[str, str]) -> Any:
    if url.startswith("/api/"):
        if method == "PUT":
            return client.put(url + "?offset=0", data=b"x", headers=headers)
        return client.open(url, method=method, json={}, headers=headers)
    return client.open(url, method=method, data={"csrf_token": token})


def test_an_auditor_reads_every_ticket_and_the_api(platform, app) -> None:  # noqa: ANN001
    """Read-only is not no-access: the same auditor still opens tickets, tasks and the audit pages."""
    world = build_world(platform)
    client = app.test_client()
    login(client, world.usernames["auditor"])
    for url in (f"/tickets/{world.ticket_a.number}", "/audit", f"/audit/tickets/{world.ticket_a.number}"):
        assert client.get(url).status_code == 200, url
    api = app.test_client().get(
        f"/api/v1/tickets/{world.ticket_a.number}", headers=bearer(platform, world.usernames["auditor"])
    )
    assert api.status_code == 200

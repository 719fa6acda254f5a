"""The dispatcher over the real roster: explanations stored, declines remembered, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from support import device_with_candidates, drain, login, open_ticket

from processes.tickets.models import Offer, Recommendation, Ticket
from processes.tickets.tasks import Actor
from webui import cli

ROOT = Path(__file__).resolve().parent.parent


def explanation(platform, ticket_id: int) -> dict:  # noqa: ANN001
    with platform.db.session() as session:
        return session.scalar(
            select(Recommendation.explanation)
            .where(Recommendation.ticket_id == ticket_id)
            .order_by(Recommendation.id.desc())
        )


def factor(candidate: dict, name: str) -> dict:
    return next(f for f in candidate["factors"] if f["factor"] == name)


def test_a_decline_lowers_that_engineers_score_for_the_same_kind_of_job(platform) -> None:  # noqa: ANN001
    device = device_with_candidates(platform, "grinder", at_least=2, description="磨床主轴异响")
    first = open_ticket(platform, text="磨床主轴异响", device=device)
    before = explanation(platform, first)
    top = before["candidates"][0]
    assert top["rank"] == 1 and factor(top, "decline_penalty")["contribution"] == 0
    assert before["job"]["device_skills"] == ["spindle"]
    with platform.db.session() as session:
        ticket = session.get(Ticket, first)
        assert ticket.skills == ["spindle"] and str(ticket.engineer_id) == top["engineer_id"]
        (view,) = platform.desk.for_ticket(session, ticket)
        platform.desk.complete(
            session,
            Actor(user=ticket.engineer.user),
            view.id,
            {"decision": "decline", "decline_reason": "skill_mismatch"},
        )
    drain(platform)
    second = open_ticket(platform, text="磨床主轴异响", device=device)
    after = explanation(platform, second)
    again = next(
        c
        for c in after["candidates"] + [{"engineer_id": o["engineer_id"], "score": o["score"]} for o in after["others"]]
        if c["engineer_id"] == top["engineer_id"]
    )
    assert again["score"] < top["score"]
    if "factors" in again:  # still among the top three
        assert factor(again, "decline_penalty")["contribution"] < 0
    else:  # pushed out of them by the penalty
        assert again["score"] < after["candidates"][-1]["score"]
    with platform.db.session() as session:
        declined = session.scalar(select(Offer).where(Offer.ticket_id == first, Offer.outcome == "declined"))
        assert declined.decline_reason == "skill_mismatch"


def test_the_ticket_page_says_why(platform, client) -> None:  # noqa: ANN001
    device = device_with_candidates(platform, "cnc_lathe", at_least=2)
    ticket_id = open_ticket(platform, text="数控车床报警", device=device)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        number, name = ticket.number, ticket.engineer.name
    login(client, "agent2")
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert f"Why {name}" in page and "first-time-fix rate" in page and "Not chosen" in page
    assert "lacks spindle" in page or "outside the" in page or "lacks FANUC" in page


def test_dispatch_command_plans_a_scenario_and_names_bad_paths(tmp_path) -> None:  # noqa: ANN001
    runner = CliRunner()
    example = ROOT / "docs" / "examples" / "dispatch-scenario.json"
    ok = runner.invoke(cli.main, ["dispatch", "--scenario", str(example), "--mode", "batch", "--json"])
    assert ok.exit_code == 0, ok.output
    result = json.loads(ok.output)
    assert result["mode"] == "batch" and result["assignments"]
    greedy = json.loads(
        runner.invoke(cli.main, ["dispatch", "--scenario", str(example), "--mode", "greedy", "--json"]).output
    )
    assert greedy["totals"]["objective"] <= result["totals"]["objective"]
    bad = json.loads(example.read_text())
    bad["engineers"][1]["home"]["lat"] = 123
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    refused = runner.invoke(cli.main, ["dispatch", "--scenario", str(path)])
    assert refused.exit_code == 1
    assert "engineers[1].home.lat: must be a number between -90 and 90" in refused.output

"""The evidence chain in the lifecycle: resumable uploads, the close-out comparison, the supervisor's review."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support import (
    bearer,
    close_out_evidence,
    drain,
    jpeg,
    open_ticket,
    panel_photos,
    running_video,
    snapshot,
)

from engine.models import HandlerCall
from processes.accounts.models import User
from processes.errors import Invalid
from processes.evidence.models import EvidenceComparison, PhotoHash
from processes.tickets.models import Attachment, Ticket
from processes.tickets.tasks import Actor

ROOT = Path(__file__).resolve().parent.parent


def ticket_at(platform, spec: str) -> tuple[int, str, User]:  # noqa: ANN001
    """A red ticket taken through offer, acceptance and arrival, up to ``spec``."""
    ticket_id = open_ticket(platform, "red", "cnc_lathe", "数控车床报警")
    for step, data in (("accept_offer", {"decision": "accept"}), ("on_site", None)):
        if step == spec:
            break
        with platform.db.session() as session:
            ticket = session.get(Ticket, ticket_id)
            (view,) = platform.desk.for_ticket(session, ticket)
            if data is None:
                row = platform.attachments.store(
                    session,
                    ticket,
                    _upload("diagnosis_photo", jpeg()),
                    expect="image",
                    uploaded_by="t",
                    task_spec="on_site",
                )
                data = {
                    "location": {"lat": ticket.site.lat, "lon": ticket.site.lon},
                    "diagnosis_photo": f"sha256:{row.sha256}",
                }
            platform.desk.complete(session, Actor(user=ticket.engineer.user), view.id, data)
        drain(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        (view,) = platform.desk.for_ticket(session, ticket)
        assert view.spec_name == spec
        return ticket_id, view.id, session.get(User, ticket.engineer.user_id)


def _upload(field: str, data: bytes, name: str = "p.jpg", content_type: str = "image/jpeg"):  # noqa: ANN202
    from processes.tickets.attachments import Upload

    return Upload(field, name, content_type, data)


def test_a_video_uploads_in_chunks_survives_retries_and_gaps(platform, client) -> None:  # noqa: ANN001
    ticket_id, task_id, engineer = ticket_at(platform, "close_out")
    headers = bearer(platform, engineer.username)
    video = running_video()
    upload_id = str(uuid.uuid4())
    begin = {
        "upload_id": upload_id,
        "task_id": task_id,
        "field": "running_video",
        "filename": "run.mp4",
        "content_type": "video/mp4",
        "total_size": len(video),
    }
    assert client.post("/api/v1/uploads", headers=headers, json=begin).status_code == 201
    assert client.post("/api/v1/uploads", headers=headers, json=begin).status_code == 201  # a retried begin
    half = len(video) // 2
    first = client.put(f"/api/v1/uploads/{upload_id}?offset=0", headers=headers, data=video[:half])
    assert first.get_json()["received"] == half
    again = client.put(f"/api/v1/uploads/{upload_id}?offset=0", headers=headers, data=video[:half])  # lost reply
    assert again.status_code == 200 and again.get_json()["received"] == half
    gap = client.put(f"/api/v1/uploads/{upload_id}?offset={half + 10}", headers=headers, data=video[half + 10 :])
    assert gap.status_code == 409 and gap.get_json()["error"]["code"] == "upload_gap"
    assert client.get(f"/api/v1/uploads/{upload_id}", headers=headers).get_json()["received"] == half
    client.put(f"/api/v1/uploads/{upload_id}?offset={half}", headers=headers, data=video[half:])
    done = client.post(f"/api/v1/uploads/{upload_id}/finish", headers=headers).get_json()
    assert done["reference"].startswith("sha256:") and done["received"] == len(video)
    assert client.post(f"/api/v1/uploads/{upload_id}/finish", headers=headers).get_json() == done
    with platform.db.session() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(Attachment)
                .where(Attachment.ticket_id == ticket_id, Attachment.field == "running_video")
            )
            == 1
        )
        stranger = session.scalar(select(User).where(User.username == "xubin"))
    assert client.get(f"/api/v1/uploads/{upload_id}", headers=bearer(platform, stranger.username)).status_code == 404


def test_a_short_video_is_refused_when_the_upload_finishes(platform, client) -> None:  # noqa: ANN001
    _ticket, task_id, engineer = ticket_at(platform, "close_out")
    headers = bearer(platform, engineer.username)
    clip = running_video(12)
    upload_id = str(uuid.uuid4())
    client.post(
        "/api/v1/uploads",
        headers=headers,
        json={
            "upload_id": upload_id,
            "task_id": task_id,
            "field": "running_video",
            "filename": "short.mp4",
            "content_type": "video/mp4",
            "total_size": len(clip),
        },
    )
    client.put(f"/api/v1/uploads/{upload_id}?offset=0", headers=headers, data=clip)
    refused = client.post(f"/api/v1/uploads/{upload_id}/finish", headers=headers)
    body = refused.get_json()["error"]
    assert refused.status_code == 422
    (field,) = body["fields"]
    assert field["code"] == "media_video_too_short"
    assert "12" in field["message"] and "30" in field["message"]


def close_out(platform, ticket_id: int, task_id: str, engineer: User, **overrides: str) -> None:  # noqa: ANN001
    data = {
        "root_cause": "wear",
        "prevention_suggestion": "每月清理冷却液",
        "fixed_first_time": True,
        **close_out_evidence(platform, ticket_id),
        **overrides,
    }
    with platform.db.session() as session:
        platform.desk.complete(session, Actor(user=engineer), task_id, data)
    drain(platform)


def current(platform, ticket_id: int) -> tuple[str, Ticket]:  # noqa: ANN001
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        (view,) = platform.desk.for_ticket(session, ticket)
        return view.spec_name, ticket


def test_a_genuine_repair_goes_straight_to_the_customer(platform) -> None:  # noqa: ANN001
    ticket_id, task_id, engineer = ticket_at(platform, "close_out")
    close_out(
        platform,
        ticket_id,
        task_id,
        engineer,
        lamp_taps=[{"name": "alarm", "x": 320 / 960, "y": 400 / 720, "w": 40 / 960, "h": 40 / 720}],
    )
    spec, ticket = current(platform, ticket_id)
    assert spec == "customer_acceptance" and ticket.evidence_review is None
    with platform.db.session() as session:
        comparison = session.scalar(select(EvidenceComparison).where(EvidenceComparison.ticket_id == ticket_id))
        calls = session.scalars(select(HandlerCall.status).where(HandlerCall.operator == "compare_evidence")).all()
        hashes = session.scalar(select(func.count()).select_from(PhotoHash).where(PhotoHash.ticket_id == ticket_id))
    assert not comparison.needs_review and calls == ["fed"] and hashes == 2
    codes = {f["code"] for f in comparison.findings}
    assert "lamp_changed" in codes and "duplicate_identical" not in codes


def test_a_reused_photo_is_flagged_reviewed_and_returned(platform, client) -> None:  # noqa: ANN001
    ticket_id, task_id, engineer = ticket_at(platform, "close_out")
    evidence = close_out_evidence(platform, ticket_id)
    close_out(platform, ticket_id, task_id, engineer, running_photo=evidence["fault_photo"])
    spec, ticket = current(platform, ticket_id)
    assert spec == "review_evidence" and ticket.status == "evidence_review" and ticket.evidence_review == "pending"
    from support import login

    login(client, "supervisor")
    page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert 'data-code="duplicate_identical"' in page
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        (view,) = platform.desk.for_ticket(session, ticket)
        supervisor = session.scalar(select(User).where(User.username == "supervisor"))
        platform.desk.complete(
            session,
            Actor(user=supervisor),
            view.id,
            {"review_decision": "return", "review_comment": "运行照片与故障照片相同，请重拍"},
        )
    drain(platform)
    spec, ticket = current(platform, ticket_id)
    assert spec == "close_out" and ticket.evidence_review == "returned"
    login(client, engineer.username)
    (view_id,) = [v.id for v in _views(platform, ticket_id)]
    assert "运行照片与故障照片相同" in client.get(f"/tasks/{view_id}").get_data(as_text=True)


def _views(platform, ticket_id: int) -> list:  # noqa: ANN001
    with platform.db.session() as session:
        return platform.desk.for_ticket(session, session.get(Ticket, ticket_id))


def test_a_photo_from_another_ticket_is_found(platform) -> None:  # noqa: ANN001
    first, task_id, engineer = ticket_at(platform, "close_out")
    close_out(platform, first, task_id, engineer)
    second, task_id, engineer = ticket_at(platform, "close_out")
    with platform.db.session() as session:
        old_after = session.scalar(select(EvidenceComparison.after_sha256).where(EvidenceComparison.ticket_id == first))
        ticket = session.get(Ticket, second)
        reused = platform.attachments.store(
            session,
            ticket,
            _upload("running_photo", platform.attachments.files.get(old_after)),
            expect="image",
            uploaded_by="t",
            task_spec="close_out",
        )
    close_out(platform, second, task_id, engineer, running_photo=f"sha256:{reused.sha256}")
    spec, _ticket = current(platform, second)
    assert spec == "review_evidence"
    with platform.db.session() as session:
        findings = session.scalar(select(EvidenceComparison.findings).where(EvidenceComparison.ticket_id == second))
    assert any(f["code"] == "photo_reused" for f in findings)


def test_compare_images_command(tmp_path) -> None:  # noqa: ANN001
    before, after = panel_photos()
    (tmp_path / "b.jpg").write_bytes(before)
    (tmp_path / "a.jpg").write_bytes(after)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "webui.cli",
            "compare-images",
            str(tmp_path / "b.jpg"),
            str(tmp_path / "a.jpg"),
            "--json",
            "--overlay",
            str(tmp_path / "o.png"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["needs_review"] is False and (tmp_path / "o.png").exists()
    same = subprocess.run(
        [sys.executable, "-m", "webui.cli", "compare-images", str(tmp_path / "b.jpg"), str(tmp_path / "b.jpg")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert same.returncode == 2 and "duplicate_identical" in same.stdout


def test_arriving_far_from_the_site_is_flagged_not_blocked(platform, client) -> None:  # noqa: ANN001
    from support import login

    ticket_id, task_id, engineer = ticket_at(platform, "on_site")
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        row = platform.attachments.store(
            session, ticket, _upload("diagnosis_photo", jpeg()), expect="image", uploaded_by="t", task_spec="on_site"
        )
        far = {
            "location": {"lat": ticket.site.lat + 0.02, "lon": ticket.site.lon},  # about 2.2 km north
            "diagnosis_photo": f"sha256:{row.sha256}",
        }
        platform.desk.complete(session, Actor(user=engineer), task_id, far)
    drain(platform)
    spec, ticket = current(platform, ticket_id)
    assert spec == "close_out" and 2100 < ticket.on_site_distance_m < 2300
    login(client, "supervisor")
    page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert 'id="far-from-site"' in page


def test_close_out_refuses_a_file_not_uploaded_to_the_ticket(platform) -> None:  # noqa: ANN001
    first, _, _ = ticket_at(platform, "close_out")
    elsewhere = close_out_evidence(platform, first)
    ticket_id, task_id, engineer = ticket_at(platform, "close_out")
    before = snapshot(platform)
    for reference in (f"sha256:{'a' * 64}", elsewhere["running_photo"]):  # made up; another ticket's photo
        with pytest.raises(Invalid) as refused, platform.db.session() as session:
            platform.desk.complete(
                session,
                Actor(user=engineer),
                task_id,
                {
                    "root_cause": "wear",
                    "prevention_suggestion": "每月清理冷却液",
                    "fixed_first_time": True,
                    "fault_photo": reference,
                },
            )
        problems = [(p.field, p.code) for p in refused.value.problems]
        assert problems[0] == ("fault_photo", "unknown_file")
        assert ("running_photo", "required") in problems  # the form's own problems come with it
        assert snapshot(platform) == before

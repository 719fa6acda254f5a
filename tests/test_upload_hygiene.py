"""Uploads that do not pile up, and photos that are served only as pixels encoded again.

Refused resumable uploads leave nothing on disk; abandoned ones are deleted by the worker's sweep after
``upload_abandon_after_s``; a ticket stores at most ``max_ticket_upload_bytes``; an empty file is
"empty", not "too large".  A photo with something appended (a ZIP, an HTML page) is recorded under the
original's SHA-256 but served as a fresh JPEG without the appendix, with ``nosniff``.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select
from support import bearer, jpeg, login, open_ticket, running_video, snapshot

from engine import sweeper
from processes.errors import Invalid
from processes.evidence.models import UploadSession
from processes.tickets.attachments import Upload
from processes.tickets.models import Attachment, Ticket


def stored_files(platform) -> set[Path]:  # noqa: ANN001
    """Every file under the store's directory (objects, uploads, temporaries)."""
    root = platform.settings.var_dir / "files"
    return {p for p in root.rglob("*") if p.is_file()}


def close_out_task(platform) -> tuple[int, str, str]:  # noqa: ANN001
    """A ticket waiting for its close-out: (ticket id, task id, engineer's username)."""
    from support import complete

    ticket_id = open_ticket(platform, "red", "cnc_lathe", "数控车床报警")
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    complete(platform, ticket_id, "on_site")
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        (view,) = platform.desk.for_ticket(session, ticket)
        assert view.spec_name == "close_out"
        return ticket_id, view.id, ticket.engineer.user.username


def begin(client, headers, task_id: str, size: int, field: str = "running_video", **extra):  # noqa: ANN001, ANN201
    upload_id = str(uuid.uuid4())
    body = {"upload_id": upload_id, "task_id": task_id, "field": field, "filename": "f.mp4", "total_size": size}
    return upload_id, client.post("/api/v1/uploads", headers=headers, json={**body, **extra})


def test_random_bytes_as_a_video_are_refused_at_the_first_chunk(platform, client) -> None:  # noqa: ANN001
    """The issue's 200 MB of random bytes as a "video", scaled down: refused at once, nothing stays."""
    _ticket, task_id, engineer = close_out_task(platform)
    headers = bearer(platform, engineer)
    before = stored_files(platform)
    noise = os.urandom(3 * 1024 * 1024)
    upload_id, started = begin(client, headers, task_id, len(noise))
    assert started.status_code == 201
    refused = client.put(f"/api/v1/uploads/{upload_id}?offset=0", headers=headers, data=noise[: 512 * 1024])
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"][0]["code"] == "media_not_a_video"
    assert stored_files(platform) == before
    assert client.get(f"/api/v1/uploads/{upload_id}", headers=headers).status_code == 404  # start again


def test_a_file_refused_when_finished_is_deleted_at_once(platform, client) -> None:  # noqa: ANN001
    """A video's first bytes with noise after them: it looks like a video until it is read whole."""
    _ticket, task_id, engineer = close_out_task(platform)
    headers = bearer(platform, engineer)
    before = stored_files(platform)
    fake = running_video()[:1024] + os.urandom(3 * 1024 * 1024)
    upload_id, started = begin(client, headers, task_id, len(fake))
    assert started.status_code == 201
    for offset in range(0, len(fake), 512 * 1024):
        chunk = fake[offset : offset + 512 * 1024]
        assert (
            client.put(f"/api/v1/uploads/{upload_id}?offset={offset}", headers=headers, data=chunk).status_code == 200
        )
    assert sum(p.stat().st_size for p in stored_files(platform) - before) >= len(fake)  # it was on disk
    refused = client.post(f"/api/v1/uploads/{upload_id}/finish", headers=headers)
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["fields"][0]["code"].startswith("media_video")
    assert stored_files(platform) == before  # neither the partial file nor a store object is left
    again = client.get(f"/api/v1/uploads/{upload_id}", headers=headers)
    assert again.status_code == 404 and again.get_json()["error"]["code"] == "upload_not_found"  # start again


def test_a_hash_that_does_not_match_deletes_the_upload(platform, client) -> None:  # noqa: ANN001
    _ticket, task_id, engineer = close_out_task(platform)
    headers = bearer(platform, engineer)
    before = stored_files(platform)
    data = running_video()[:1024]
    upload_id, _ = begin(client, headers, task_id, len(data), sha256="0" * 64)
    client.put(f"/api/v1/uploads/{upload_id}?offset=0", headers=headers, data=data)
    refused = client.post(f"/api/v1/uploads/{upload_id}/finish", headers=headers)
    assert refused.status_code == 422
    assert "upload_hash_mismatch" in refused.get_json()["error"]["fields"][0]["message"]
    assert stored_files(platform) == before


def test_an_empty_file_is_empty_not_too_large(platform, client) -> None:  # noqa: ANN001
    _ticket, task_id, engineer = close_out_task(platform)
    headers = {**bearer(platform, engineer), "Accept-Language": "en"}
    before = snapshot(platform)
    _, response = begin(client, headers, task_id, 0)
    assert response.status_code == 422
    (field,) = response.get_json()["error"]["fields"]
    assert field["code"] == "media_empty_file" and "empty" in field["message"] and "large" not in field["message"]
    _, missing = begin(client, headers, task_id, 0, total_size=None)
    assert missing.get_json()["error"]["fields"][0] == {
        **missing.get_json()["error"]["fields"][0],
        "field": "total_size",
        "code": "required",
    }
    _, text = begin(client, headers, task_id, 0, total_size="12")
    assert text.get_json()["error"]["fields"][0]["code"] == "not_an_integer"
    after = snapshot(platform)
    after.pop("api_token"), before.pop("api_token")
    assert after == before


def test_a_ticket_stores_at_most_its_limit(platform, client) -> None:  # noqa: ANN001
    ticket_id, task_id, engineer = close_out_task(platform)
    headers = {**bearer(platform, engineer), "Accept-Language": "en"}
    with platform.db.session() as session:
        used = session.scalar(select(func.sum(Attachment.size)).where(Attachment.ticket_id == ticket_id)) or 0
    platform.attachments.max_ticket_bytes = used + 3 * 1024 * 1024
    first, ok = begin(client, headers, task_id, 2 * 1024 * 1024)
    assert ok.status_code == 201  # 2 MB fit and are now reserved while they arrive
    _, refused = begin(client, headers, task_id, 2 * 1024 * 1024)
    assert refused.status_code == 422
    (field,) = refused.get_json()["error"]["fields"]
    assert field["code"] == "ticket_storage_full" and field["field"] == "running_video"
    assert "3" in field["message"] and "MB" in field["message"]
    # The direct (non-resumable) path obeys the same bound.
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        try:
            platform.attachments.store(
                session,
                ticket,
                Upload("fault_photo", "a.jpg", "image/jpeg", jpeg(1600, 1200) + os.urandom(1024 * 1024 + 1)),
                expect="image",
                uploaded_by="t",
                task_spec="close_out",
            )
        except Invalid as err:
            assert err.problems[0].code == "ticket_storage_full"
        else:
            raise AssertionError("a file over the ticket's limit was stored")
    # Once the reserving upload is abandoned and swept, its room is free again.
    idle = timedelta(seconds=platform.settings.upload_abandon_after_s)
    old = (platform.engine.clock.now() - idle - timedelta(minutes=1)).timestamp()
    upload_dir = platform.attachments.uploads.root / first
    for path in (upload_dir, *upload_dir.iterdir()):
        os.utime(path, (old, old))
    with platform.db.session() as session:  # the session row is as old as its files
        session.get(UploadSession, first).created_at = platform.engine.clock.now() - idle - timedelta(minutes=1)
    platform.engine.clock.advance(minutes=10)  # the upload sweep runs at most every 5 minutes
    assert sweeper.sweep(platform.engine)["sessions_removed"] == 1
    _, now_fits = begin(client, headers, task_id, 2 * 1024 * 1024)
    assert now_fits.status_code == 201


def test_abandoned_uploads_are_swept_and_recent_ones_kept(platform, client, clock) -> None:  # noqa: ANN001
    _ticket, task_id, engineer = close_out_task(platform)
    headers = bearer(platform, engineer)
    abandoned, _ = begin(client, headers, task_id, 8192)
    recent, _ = begin(client, headers, task_id, 8192)
    for upload_id in (abandoned, recent):
        client.put(f"/api/v1/uploads/{upload_id}?offset=0", headers=headers, data=running_video()[:1024])
    clock.advance(minutes=10)  # the upload sweep runs at most every 5 minutes; drain() ran one just now
    idle = timedelta(seconds=platform.settings.upload_abandon_after_s)
    uploads = platform.attachments.uploads
    for upload_id, age in ((abandoned, idle + timedelta(minutes=5)), (recent, idle - timedelta(minutes=5))):
        stamp = (clock.now() - age).timestamp()
        for path in (uploads.root / upload_id, *(uploads.root / upload_id).iterdir()):
            os.utime(path, (stamp, stamp))
    with platform.db.session() as session:
        for upload_id in (abandoned, recent):
            session.get(UploadSession, upload_id).created_at = clock.now() - idle - timedelta(minutes=10)
    stray = platform.settings.var_dir / "files" / "tmp" / "put-crashed"
    stray.write_bytes(b"x" * 100)
    os.utime(stray, (clock.now().timestamp() - idle.total_seconds() - 60,) * 2)
    report = sweeper.sweep(platform.engine)  # what the worker runs every few seconds
    assert report["uploads_removed"] == 1 and report["sessions_removed"] == 1 and report["temporaries_removed"] == 1
    assert not (uploads.root / abandoned).exists() and not stray.exists()
    assert (uploads.root / recent / "data.part").stat().st_size == 1024
    with platform.db.session() as session:
        assert session.get(UploadSession, abandoned) is None
        assert session.get(UploadSession, recent) is not None
    gone = client.get(f"/api/v1/uploads/{abandoned}", headers=headers)
    assert gone.status_code == 404
    assert client.get(f"/api/v1/uploads/{recent}", headers=headers).get_json()["received"] == 1024


def polyglots() -> dict[str, bytes]:
    photo = jpeg(800, 600)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("payload.html", "<script>alert(document.cookie)</script>")
    return {
        "zip": photo + archive.getvalue(),
        "html": photo + b"<html><body><script>alert(document.cookie)</script></body></html>",
    }


def test_photos_are_served_encoded_again_and_keep_the_originals_hash(platform, client) -> None:  # noqa: ANN001
    ticket_id = open_ticket(platform)
    # close-out photos: the files a customer's link serves too (webui.customer.file)
    for (name, data), field in zip(polyglots().items(), ("fault_photo", "running_photo"), strict=True):
        with platform.db.session() as session:
            ticket = session.get(Ticket, ticket_id)
            row = platform.attachments.store(
                session,
                ticket,
                Upload(field, f"{name}.jpg", "image/jpeg", data),
                expect="image",
                uploaded_by="t",
                task_spec="close_out",
            )
            sha256, link = row.sha256, platform.links.token(ticket)
        assert sha256 == hashlib.sha256(data).hexdigest()  # the record keeps the original's hash
        assert platform.attachments.files.get(sha256) == data  # the evidence checks read the original
        login(client, "supervisor")
        response = client.get(f"/files/{sha256}")
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        served = response.get_data()
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.mimetype == "image/jpeg"
        assert served != data and b"<script>" not in served and b"PK\x03\x04" not in served
        with Image.open(io.BytesIO(served)) as image:
            assert image.format == "JPEG" and image.size == (800, 600)
        assert client.get(f"/c/{link}/files/{sha256}").get_data() == served


def test_a_photo_recorded_before_re_encoding_is_re_encoded_on_the_way_out(platform, client) -> None:  # noqa: ANN001
    ticket_id = open_ticket(platform)
    data = polyglots()["html"]
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        row = platform.attachments.store(
            session,
            ticket,
            Upload("photo", "old.jpg", "image/jpeg", data),
            expect="image",
            uploaded_by="t",
            task_spec=None,
        )
        row.meta = {k: v for k, v in row.meta.items() if not k.startswith("display")}  # as rows from before
        sha256 = row.sha256
    login(client, "supervisor")
    served = client.get(f"/files/{sha256}").get_data()
    assert served[:2] == b"\xff\xd8" and b"<html>" not in served


def test_the_resumable_path_stores_a_display_copy_too(platform, client) -> None:  # noqa: ANN001
    _ticket, task_id, engineer = close_out_task(platform)
    headers = bearer(platform, engineer)
    data = polyglots()["zip"]
    upload_id, _ = begin(client, headers, task_id, len(data), field="fault_photo", filename="p.jpg")
    client.put(f"/api/v1/uploads/{upload_id}?offset=0", headers=headers, data=data)
    done = client.post(f"/api/v1/uploads/{upload_id}/finish", headers=headers)
    assert done.status_code == 200, done.get_json()
    with platform.db.session() as session:
        row = session.scalar(select(Attachment).where(Attachment.sha256 == hashlib.sha256(data).hexdigest()))
        assert row is not None and row.meta["display"] != row.sha256
        copy = platform.attachments.files.get(row.meta["display"])
    assert b"PK\x03\x04" not in copy and copy[:2] == b"\xff\xd8"


def test_the_served_copy_is_upright_and_carries_no_metadata(platform, client) -> None:  # noqa: ANN001
    """A phone's portrait photo is stored landscape with EXIF orientation 6 (and its place): the copy
    browsers get is turned upright and says nothing of where it was taken; the original keeps both."""
    image = Image.open(io.BytesIO(jpeg(800, 600)))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to show
    exif[0x010F] = "TestCam"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    data = buffer.getvalue()
    ticket_id = open_ticket(platform)
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        row = platform.attachments.store(
            session,
            ticket,
            Upload("photo", "portrait.jpg", "image/jpeg", data),
            expect="image",
            uploaded_by="t",
            task_spec=None,
        )
        sha256 = row.sha256
    login(client, "supervisor")
    with Image.open(io.BytesIO(client.get(f"/files/{sha256}").get_data())) as served:
        assert served.size == (600, 800)  # upright
        assert not served.getexif()  # no orientation left to apply twice, no camera, no place
    with Image.open(io.BytesIO(platform.attachments.files.get(sha256))) as original:
        assert original.getexif()[0x0112] == 6 and original.getexif()[0x010F] == "TestCam"

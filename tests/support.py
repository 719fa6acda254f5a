"""Helpers the tests share: logging in through the real form, running queued jobs, taking a ticket
through its tasks, test images, database snapshots."""

from __future__ import annotations

import io
import re
import time
from typing import Any

from PIL import Image
from sqlalchemy import select, text

from engine import sweeper
from processes.demo import DEMO_PASSWORD
from processes.platform import Platform
from processes.tickets.models import Attachment, Ticket

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: Any, url: str) -> str:
    page = client.get(url)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1)


def login(client: Any, username: str, password: str = DEMO_PASSWORD) -> None:
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def logout(client: Any) -> None:
    client.delete_cookie("session")


def drain(platform: Platform) -> int:
    """Run every queued job in this process with a real rq worker on the real Redis; return how many."""
    worker = platform.worker()
    count = 0
    for _ in range(50):
        sweeper.sweep(platform.engine)
        before = worker.successful_job_count + worker.failed_job_count
        worker.work(burst=True)
        ran = worker.successful_job_count + worker.failed_job_count - before
        count += ran
        if ran == 0:
            return count
    raise AssertionError("jobs keep coming: an instance is looping")


def jpeg(width: int = 640, height: int = 480, color: tuple[int, int, int] = (180, 40, 40)) -> bytes:
    image = Image.new("RGB", (width, height), color)
    for x in range(0, width, 16):
        for y in range(0, height, 16):
            image.putpixel((x, y), (x % 255, y % 255, (x * y) % 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def ticket(platform: Platform, number: str) -> Ticket:
    with platform.db.session() as session:
        row = session.scalar(select(Ticket).where(Ticket.number == number))
        assert row is not None
        return row


def device_with_candidates(
    platform: Platform,
    device_type: str | None = None,
    urgency: str = "yellow",
    at_least: int = 2,
    description: str = "设备故障，无法启动",
):  # noqa: ANN201
    """A demo device whose tickets the dispatcher can offer to at least ``at_least`` engineers.

    The demo plant has engineers within a few kilometres of most sites but not all, as real plants do;
    tests that need an offer pick a device that gets one, whatever the random layout.
    """
    from handlers.dispatch import Ticket as Job
    from processes.devices.models import Device
    from processes.dispatch import roster
    from processes.tickets.models import Ticket as TicketRow

    with platform.db.session() as session:
        team = roster.load(session, platform.engine.clock.now(), "Asia/Shanghai")
        policy = roster.policy_from({"beyond_radius": urgency in ("red", "orange")}, urgency)
        query = select(Device).order_by(Device.id)
        if device_type:
            query = query.where(Device.device_type == device_type)
        for device in session.scalars(query):
            probe = TicketRow(id=0, site=device.site, device=device, urgency=urgency, problem_description=description)
            job: Job = roster.dispatch_ticket(probe)
            if len(team.shortlist(policy).shortlist(job).candidates) >= at_least:
                return device
    raise AssertionError(f"no {device_type or ''} device with {at_least} candidates for {urgency} tickets")


def bearer(platform: Platform, username: str) -> dict[str, str]:
    """API headers with a fresh token for the user."""
    from processes.accounts.models import User
    from processes.accounts.service import issue_token

    with platform.db.session() as session:
        user = session.scalar(select(User).where(User.username == username))
        return {"Authorization": f"Bearer {issue_token(session, user)}"}


def open_ticket(
    platform: Platform,
    urgency: str = "yellow",
    device_type: str | None = None,
    text: str = "设备故障，无法启动",
    *,
    device: Any = None,
    source_channel: str = "web",
    at_least: int = 2,
) -> int:
    """A ticket opened by the demo agent, offered and waiting for the engineer's answer.

    Without ``device``, on a device the dispatcher can offer to ``at_least`` engineers.
    """
    from processes.accounts.models import User

    device = device or device_with_candidates(platform, device_type, urgency, at_least, text)
    with platform.db.session() as session:
        agent = session.scalar(select(User).where(User.username == "agent"))
        ticket_id = platform.intake.create(
            session,
            {"source_channel": source_channel, "urgency": urgency, "device_id": device.id, "problem_description": text},
            creator=agent,
        ).id
    drain(platform)
    return ticket_id


PLACEHOLDER_PHOTO = "1" * 64


def wait_for_task(platform: Platform, ticket_id: int, spec: str, seconds: float = 60) -> None:
    """Until the ticket has an open ``spec`` task.  Alone it is there after ``drain``; beside a live server's
    worker (browser tests), that worker may be the one running the step that opens it, so look again."""
    deadline = time.monotonic() + seconds
    while True:
        with platform.db.session() as session:
            views = platform.desk.for_ticket(session, session.get(Ticket, ticket_id))
            if any(v.spec_name == spec for v in views):
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"ticket {ticket_id} has no open {spec} task after {seconds} s")
        drain(platform)
        time.sleep(0.1)


def complete(
    platform: Platform, ticket_id: int, spec: str, data: dict[str, Any] | None = None, *, customer: bool = False
) -> None:
    """Complete the ticket's open ``spec`` task as its engineer (or its customer), then run what follows.

    ``on_site`` gets the site's location and a placeholder diagnosis photo unless ``data`` says otherwise;
    ``close_out`` gets real evidence photos and video, so the comparison runs as in production.
    """
    from processes.tickets.tasks import Actor

    data = dict(data or {})
    wait_for_task(platform, ticket_id, spec)
    if spec == "close_out":
        data = {**close_out_evidence(platform, ticket_id), **data}
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        (view,) = [v for v in platform.desk.for_ticket(session, ticket) if v.spec_name == spec]
        actor = (
            Actor(customer_ticket_id=ticket.id, customer_ticket_number=ticket.number)
            if customer
            else Actor(user=ticket.engineer.user)
        )
        if spec == "on_site":
            session.add(
                Attachment(
                    ticket_id=ticket.id,
                    sha256=PLACEHOLDER_PHOTO,
                    kind="image",
                    content_type="image/jpeg",
                    size=1,
                    original_name="p.jpg",
                    field="diagnosis_photo",
                    task_spec=spec,
                    uploaded_by="t",
                    meta={},
                    created_at=platform.engine.clock.now(),
                )
            )
            data = {
                "location": {"lat": ticket.site.lat, "lon": ticket.site.lon},
                "diagnosis_photo": f"sha256:{PLACEHOLDER_PHOTO}",
                **data,
            }
        platform.desk.complete(session, actor, view.id, data)
    drain(platform)


def rework_with_lamp_taps(platform: Platform, first: float = 0.29502, second: float = 0.29616) -> int:
    """A ticket taken through a customer rework: close-out with a lamp tap at ``first``, the customer
    rejects, close-out with a tap at ``second``, the customer accepts.  A nested form value answered
    twice is what once leaked between passes (SpiffWorkflow shares nested values between tasks)."""
    ticket_id = open_ticket(platform, "yellow", text="coolant leak", at_least=1)

    def taps(x: float) -> dict[str, Any]:
        return {"lamp_taps": [{"name": "alarm", "x": x, "y": 0.55, "w": 0.04, "h": 0.05}]}

    close_out = {"root_cause": "wear", "prevention_suggestion": "定期检查", "fixed_first_time": True}
    complete(platform, ticket_id, "accept_offer", {"decision": "accept"})
    complete(platform, ticket_id, "on_site", {})
    complete(platform, ticket_id, "close_out", {**close_out, **taps(first)})
    complete(
        platform, ticket_id, "customer_acceptance", {"verdict": "reject", "rejection_reason": "还是漏"}, customer=True
    )
    complete(platform, ticket_id, "close_out", {**close_out, **taps(second)})
    complete(platform, ticket_id, "customer_acceptance", {"verdict": "accept"}, customer=True)
    return ticket_id


def snapshot(platform: Platform) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove a refused request changed nothing."""
    from engine.db import Base

    with platform.db.engine.connect() as connection:
        return {
            table.name: sorted(
                tuple(str(v) for v in row) for row in connection.execute(text(f"SELECT * FROM {table.name}"))
            )
            for table in Base.metadata.sorted_tables
        }


def panel_photos(seed: int = 7) -> tuple[bytes, bytes]:
    """A machine panel before and after a repair: same scene and framing, a lamp turned from red to
    green, new sensor noise.  The comparison should see a lamp change and nothing to review."""
    import numpy as np

    rng = np.random.default_rng(seed)
    base = (rng.random((60, 80, 3)) * 90 + 60).astype(np.uint8)
    scene = np.array(Image.fromarray(base).resize((960, 720), Image.Resampling.BICUBIC), dtype=np.float32)
    scene[200:520, 260:700] = (70, 78, 88)  # the control panel
    for x in range(300, 680, 40):
        scene[230:240, x : x + 20] = (230, 230, 230)  # labels
    shots = []
    for lamp, noise_seed in (((230, 40, 30), seed + 1), ((40, 220, 60), seed + 2)):
        shot = scene.copy()
        shot[400:440, 320:360] = lamp
        noise = np.random.default_rng(noise_seed).normal(0, 3, shot.shape)
        image = Image.fromarray(np.clip(shot + noise, 0, 255).astype(np.uint8))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=92)
        shots.append(buffer.getvalue())
    return shots[0], shots[1]


_VIDEOS: dict[int, bytes] = {}


def running_video(seconds: int = 31) -> bytes:
    """A small MP4 of ``seconds`` (31 by default: long enough for a close-out), made once per run (PyAV)."""
    if seconds not in _VIDEOS:
        import av
        import numpy as np

        target = io.BytesIO()
        with av.open(target, "w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=2)
            stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
            for i in range(seconds * 2):
                frame = np.zeros((64, 96, 3), np.uint8)
                frame[:, : (i * 3) % 96] = (200, 80, 40)
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        _VIDEOS[seconds] = target.getvalue()
    return _VIDEOS[seconds]


def close_out_evidence(platform: Platform, ticket_id: int, by: str = "test") -> dict[str, str]:
    """Store the close-out's three photos and video on the ticket; return the form answers for them."""
    from processes.tickets.attachments import Upload

    before, after = panel_photos(ticket_id)
    files = {
        "fault_photo": ("fault.jpg", before, "image", "image/jpeg"),
        "repair_photo": ("repair.jpg", jpeg(color=(90, 90, 200)), "image", "image/jpeg"),
        "running_photo": ("running.jpg", after, "image", "image/jpeg"),
        "running_video": ("running.mp4", running_video(), "video", "video/mp4"),
    }
    answers = {}
    with platform.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        for field, (name, data, kind, content_type) in files.items():
            row = platform.attachments.store(
                session,
                ticket,
                Upload(field, name, content_type, data),
                expect=kind,
                uploaded_by=by,
                task_spec="close_out",
            )
            answers[field] = f"sha256:{row.sha256}"
    return answers

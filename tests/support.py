"""Helpers the tests share: logging in through the real form, running queued jobs, test images."""

from __future__ import annotations

import io
import re
from typing import Any

from PIL import Image
from rq import SimpleWorker
from sqlalchemy import select

from engine import jobs, sweeper
from processes.demo import DEMO_PASSWORD
from processes.platform import Platform
from processes.tickets.models import Ticket

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
    worker = SimpleWorker([jobs.QUEUE_NAME], connection=platform.redis)
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

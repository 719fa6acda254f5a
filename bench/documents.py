"""Customer documents and notifications benchmark: `python -m bench.documents` prints one JSON line.

Keys:
  confirmation_pdf_ms_p50/_p95    rendering one customer confirmation (issue 11 §2) as the lifecycle's service
                                  task does: the ticket's facts in the customer's language, the portal link's
                                  QR code, Jinja, WeasyPrint (A4, Chinese); ``Confirmations.render``, warm
  signed_pdf_ms_p50               one customer signature: the signature PNG checked, the stamp page rendered and
                                  laid over the original (pypdf), both stored, the version row and the journal
                                  annotation written (``Confirmations.sign``, its transaction rolled back)
  confirmations, signatures       how many of each were timed
  notifications_delivered_per_s   outbox rows delivered per second by ONE worker (rq SimpleWorker in this
                                  process, as ``closeloop worker`` runs it) to a local SMS provider on 127.0.0.1
                                  speaking Tencent Cloud's SendSms answer format; each row is claimed, rendered
                                  in its reader's language, sent (signed TC3 request on the adapter's kept-alive
                                  connection) and recorded; the rows written by one transaction reach the worker
                                  as jobs of up to 100 rows (``processes.notifications.delivery``)
  notifications                   how many rows were delivered
  notifications_cpu_s             the CPU time this process spent meanwhile (worker and the stand-in provider)
  notifications_load_avg_1m       the machine's 1-minute load average when the delivery ended
Rows are written (and their jobs enqueued after commit) before the clock starts: the figure is the worker's.

Runs on ``DATABASE_URL`` / ``REDIS_URL`` when set, otherwise on a fresh SQLite file and an embedded Redis under
var/bench/.  Figures go to bench/README.md by hand, with the machine and the date.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.world import fresh_database, settings_for
from processes import demo
from processes.customers.models import Customer
from processes.notifications import service
from processes.notifications.models import Notification
from processes.notifications.settings import NotificationSettings
from processes.platform import ROOT, Settings, build_platform


class _Provider(BaseHTTPRequestHandler):
    """Answers every SendSms like Tencent Cloud does when it accepts the message."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # http.server writes the headers and the body separately: without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every answer, which would measure the stand-in, not the delivery.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = {"Code": "Ok", "Message": "send success", "SerialNo": "s", "SessionContext": body["SessionContext"]}
        data = json.dumps({"Response": {"SendStatusSet": [status], "RequestId": "r"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def prepare(var: Path) -> Settings:
    return settings_for(fresh_database(var, "documents"), var)


def bench_notifications(settings: Settings, count: int) -> dict[str, Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    notifications = NotificationSettings(
        sms_provider="tencent",
        sms_sign_name="闭环服务",
        sms_templates={"escalation_customer": "100001"},
        tencent_secret_id="AKIDbench",
        tencent_secret_key="bench-key",
        tencent_sdk_app_id="1400000001",
        tencent_endpoint=f"http://127.0.0.1:{server.server_address[1]}",
    )
    platform = build_platform(replace(settings, notifications=notifications))
    platform.redis.flushdb()
    try:
        with platform.db.session() as session:
            demo.load(session)
        with platform.db.session() as session:
            customers = list(session.scalars(select(Customer).order_by(Customer.id)))
            now = platform.engine.clock.now()
            for i in range(count):
                person = customers[i % len(customers)]
                recipient = service.Recipient("customer", person.id, person.locale, ("sms",), f"+86139{i:08d}")
                params = {"ticket": f"T-{i:05d}", "urgency": "red", "customer": person.name, "problem": "-",
                          "due": "-", "device": "-"}  # fmt: skip
                service.notify(
                    session, key=f"bench:{i}", template="escalation_customer", params=params,
                    recipients=[recipient], ticket=None, now=now,
                )  # fmt: skip
        worker = platform.worker()
        start, cpu = time.perf_counter(), time.process_time()
        worker.work(burst=True)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        with platform.db.session() as session:
            sent = session.scalar(select(func.count()).where(Notification.status == "sent"))
        assert sent == count, f"{sent} of {count} delivered"
        return {
            "notifications_delivered_per_s": round(count / elapsed, 1),
            "notifications": count,
            "notifications_cpu_s": round(cpu, 2),
            "notifications_load_avg_1m": round(os.getloadavg()[0], 1),
        }
    finally:
        server.shutdown()
        platform.db.dispose()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def bench_confirmations(settings: Settings, runs: int) -> dict[str, Any]:
    """A ticket opened through the intake (so it has a process and a journal), given an engineer who accepted
    it, its confirmation rendered ``runs`` times and signed ``runs // 2`` times."""
    import base64
    import io

    from PIL import Image, ImageDraw

    from processes.accounts.models import User
    from processes.devices.models import Device
    from processes.engineers.models import Engineer
    from processes.tickets.models import Ticket

    platform = build_platform(settings)
    platform.redis.flushdb()
    platform.deploy_models()
    try:
        with platform.db.session() as session:
            demo.load(session)
        with platform.db.session() as session:
            agent = session.scalar(select(User).where(User.username == "agent"))
            device = session.scalar(select(Device).order_by(Device.id))
            body = {"source_channel": "web", "urgency": "yellow", "device_id": device.id,
                    "problem_description": "空压机无法启动，报警灯闪烁，压力表读数为零"}  # fmt: skip
            ticket_id = platform.intake.create(session, body, creator=agent).id
        with platform.db.session() as session:
            ticket = session.get(Ticket, ticket_id)
            ticket.engineer = session.scalar(select(Engineer).order_by(Engineer.id))
            ticket.accepted_at = platform.engine.clock.now()
        render_ms: list[float] = []
        with platform.db.session() as session:
            ticket = session.get(Ticket, ticket_id)
            for i in range(runs + 2):
                start = time.perf_counter()
                platform.documents.render(ticket, 1)
                if i >= 2:  # the first renderings load fonts and templates
                    render_ms.append((time.perf_counter() - start) * 1000)
            platform.documents.generate(session, ticket, actor="bench")
        image = Image.new("RGBA", (680, 340), (0, 0, 0, 0))
        ImageDraw.Draw(image).line((40, 250, 200, 60, 380, 280, 640, 80), fill=(13, 27, 76, 255), width=6)
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        signature = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
        sign_ms: list[float] = []
        for _ in range(max(runs // 2, 1)):
            with platform.db.session() as session:
                ticket = session.get(Ticket, ticket_id)
                start = time.perf_counter()
                platform.documents.sign(
                    session, platform.engine, ticket, version=1, signer="王先生", signature=signature, ip="127.0.0.1"
                )
                sign_ms.append((time.perf_counter() - start) * 1000)
                session.rollback()  # the same unsigned version is signed again next round
        return {
            "confirmation_pdf_ms_p50": _percentile(render_ms, 0.5),
            "confirmation_pdf_ms_p95": _percentile(render_ms, 0.95),
            "signed_pdf_ms_p50": _percentile(sign_ms, 0.5),
            "confirmations": len(render_ms),
            "signatures": len(sign_ms),
        }
    finally:
        platform.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--notifications", type=int, default=2000, help="outbox rows to deliver [2000]")
    parser.add_argument(
        "--confirmations", type=int, default=40, help="confirmation PDFs to render [40]; 0 measures notifications only"
    )
    args = parser.parse_args()
    logging.getLogger("rq").setLevel(logging.WARNING)
    logging.getLogger("rq.worker").setLevel(logging.WARNING)
    figures = bench_confirmations(prepare(ROOT / "var" / "bench"), args.confirmations) if args.confirmations else {}
    figures.update(bench_notifications(prepare(ROOT / "var" / "bench"), args.notifications))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

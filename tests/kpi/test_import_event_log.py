"""History import of an event log (JSON Lines): imported cases fold exactly like live ones would, are
marked imported, match or create their devices and customers, and start no lifecycle or notification."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from kpi.import_samples import DEMO_SERIAL, EXPECTED, case_columns, counts, event_log, event_rows
from sqlalchemy import select

from processes.customers.models import Customer
from processes.devices.models import Device
from processes.kpi.importing import ImportReport, import_history
from processes.kpi.models import ServiceCase
from processes.platform import Platform


def run(platform: Platform, name: str, content: bytes, *, dry_run: bool = False) -> ImportReport:
    with platform.db.session() as session:
        return import_history(
            session,
            name,
            content,
            timezone=platform.settings.timezone,
            now=platform.engine.clock.now(),
            dry_run=dry_run,
        )


def test_an_event_log_imports_every_ticket_folded_like_the_definitions_say(platform: Platform) -> None:
    with platform.db.session() as session:
        before = counts(session)
    report = run(platform, "history.jsonl", event_log())
    assert report.ok and report.written, report.problems
    assert (report.tickets, report.new_tickets, report.events, report.new_events) == (4, 4, 17, 17)
    assert (report.new_devices, report.new_customers) == (2, 2)  # SN-A100 (宁波精工机械), SN-B200 (unknown owner)
    with platform.db.session() as session:
        after = counts(session)
        columns = case_columns(session)
        for key, expected in EXPECTED.items():
            got = {name: columns[key][name] for name in expected}
            assert got == expected, key
        cases = {c.key: c for c in session.scalars(select(ServiceCase))}
        assert all(c.imported and c.ticket_id is None and c.import_source == report.digest for c in cases.values())
        # Recurrence matches on device_key: both tickets of SN-A100 share the device's id.
        device = session.scalar(select(Device).where(Device.serial == "SN-A100"))
        assert device is not None and device.model == "VMC-850" and device.customer.name == "宁波精工机械"
        assert device.site.name == "北仑工厂" and device.customer.phone == "0574-8765 4321"
        assert cases["H-1"].device_key == cases["H-2"].device_key == str(device.id)
        demo = session.scalar(select(Device).where(Device.serial == DEMO_SERIAL))
        assert demo is not None and cases["H-3"].device_id == demo.id  # matched by serial, not created
        assert cases["H-3"].region == demo.site.region and cases["H-3"].device_type == demo.device_type
        assert session.scalar(select(Customer).where(Customer.name.like("%Unknown customer%"))) is not None
        # Times without a zone are on the plant's clock (Asia/Shanghai, UTC+8).
        assert cases["H-1"].created_at == datetime(2026, 10, 1, 0, 0, tzinfo=UTC)
        assert cases["H-1"].window_ends_at == datetime(2026, 10, 8, 8, 0, tzinfo=UTC)
        assert {source for *_, source in event_rows(session)} == {"import"}
    assert after["kpi_case"] - before["kpi_case"] == 4 and after["kpi_event"] - before["kpi_event"] == 17
    assert (after["device"] - before["device"], after["customer"] - before["customer"]) == (2, 2)
    # Nothing of a lifecycle: no ticket, no process instance, journal, timer or notification.
    for table in ("ticket", "process_instance", "journal_event", "engine_timer", "notification"):
        assert after[table] == before[table], table


def test_an_id_names_a_known_device_and_a_phone_finds_its_customer(platform: Platform) -> None:
    with platform.db.session() as session:
        demo = session.scalar(select(Device).where(Device.serial == DEMO_SERIAL))
        assert demo is not None
        demo_id, demo_phone, customers = demo.id, demo.customer.phone, counts(session)["customer"]
    lines = [
        {
            "ticket": "ID-1",
            "event": "created",
            "at": "2026-10-02T09:00:00+08:00",
            "device": demo_id,
            "problem": "coolant",
            "urgency": "蓝",
            "response_due": "2026-10-02T01:00:00Z",
        },
        {
            "ticket": "ID-2",
            "event": "created",
            "at": "2026-10-02 09:30",
            "device": "NEW-77",
            "problem": "coolant",
            "urgency": "Blue",
            "response_due": "2026-10-02 17:30",
            "phone": demo_phone.replace("-", " "),  # other spacing, the same digits
        },
    ]
    report = run(platform, "ids.jsonl", "\n".join(json.dumps(x) for x in lines).encode())
    assert report.ok, report.problems
    with platform.db.session() as session:
        cases = {c.key: c for c in session.scalars(select(ServiceCase))}
        assert cases["ID-1"].device_id == demo_id and cases["ID-1"].urgency == "blue"
        assert cases["ID-1"].response_due_at == datetime(2026, 10, 2, 1, 0, tzinfo=UTC)
        new = session.scalar(select(Device).where(Device.serial == "NEW-77"))
        assert new is not None and new.customer.phone == demo_phone
        assert counts(session)["customer"] == customers

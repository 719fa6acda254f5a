"""Heat-map numbers against a set of instances computed by hand (issue 13 part B).

Three instances of process ``p`` with known times between completions (seconds):
A: start, triage +60, fix +600, end +30
B: start, triage +120, fix +300, triage +180 (rework), fix +900, end +60
C (another version): start, triage +240, end +10
plus rows that are not completions (deferrals, facts) and an instance of another process, which must
not count.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from processes.heatmap.service import FlowHeat, HeatFilter, heat_map

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def test_counts_times_and_flows_match_the_hand_computation(platform, hand_set) -> None:  # noqa: ANN001
    with platform.db.session() as session:
        heat = heat_map(session, HeatFilter("p", T0, T0 + timedelta(days=1)))
    assert heat.tickets == 3
    nodes = {n.element_id: n for n in heat.nodes}
    assert {k: (n.visits, n.tickets) for k, n in nodes.items()} == {
        "start": (3, 3),
        "triage": (4, 3),
        "fix": (3, 2),
        "end": (3, 3),
    }
    # triage stays 60, 120, 180, 240: nearest-rank median is the 2nd, p90 the 4th.
    assert (nodes["triage"].median_s, nodes["triage"].p90_s, nodes["triage"].total_s) == pytest.approx(
        (120, 240, 600), abs=0.01
    )
    # fix stays 300, 600, 900 (from the previous completion, the deferral between does not count).
    assert (nodes["fix"].median_s, nodes["fix"].p90_s, nodes["fix"].total_s) == pytest.approx(
        (600, 900, 1800), abs=0.01
    )
    assert (nodes["end"].median_s, nodes["end"].p90_s, nodes["end"].total_s) == pytest.approx((30, 60, 100), abs=0.01)
    assert nodes["start"].median_s is None and nodes["start"].total_s == 0
    assert set(heat.flows) == {
        FlowHeat("start", "triage", 3),
        FlowHeat("triage", "fix", 3),
        FlowHeat("fix", "end", 2),
        FlowHeat("fix", "triage", 1),
        FlowHeat("triage", "end", 1),
    }
    assert [n.element_id for n in heat.longest_waits()] == ["fix", "triage", "end"]


def test_version_and_period_filters(platform, hand_set) -> None:  # noqa: ANN001
    with platform.db.session() as session:
        v2 = heat_map(session, HeatFilter("p", T0, T0 + timedelta(days=1), deployment_id=hand_set["v2"]))
        # Up to 08:03 only A's triage (08:01) and B's (08:02) and the starts are in the period.
        early = heat_map(session, HeatFilter("p", T0, T0 + timedelta(minutes=3)))
        empty = heat_map(session, HeatFilter("p", T0 + timedelta(days=1), T0 + timedelta(days=2)))
    assert v2.tickets == 1 and {n.element_id: n.visits for n in v2.nodes} == {"start": 1, "triage": 1, "end": 1}
    assert {n.element_id: n.visits for n in early.nodes} == {"start": 3, "triage": 2}
    assert {n.element_id: n.median_s for n in early.nodes}["triage"] == pytest.approx(60, abs=0.01)
    assert empty.tickets == 0 and empty.nodes == () and empty.flows == ()


XES = "{http://www.xes-standard.org/}"
ATTRIBUTES = {"string", "date", "int", "float", "boolean", "id"}


def _check_xes_structure(root) -> None:  # noqa: ANN001
    """The XML serialisation of IEEE 1849-2016: a ``log`` in the XES namespace holding, in this order,
    extensions (name, prefix, uri), globals (scope trace|event), classifiers (name, keys), the log's
    attributes and the traces; every attribute element has a key and a value, every key's prefix is a
    declared extension, dates are xs:dateTime, events sit only in traces."""
    assert root.tag == f"{XES}log" and root.get("xes.version")
    order = ["extension", "global", "classifier", "attribute", "trace"]
    seen = 0
    prefixes = set()
    for child in root:
        tag = child.tag.removeprefix(XES)
        part = "attribute" if tag in ATTRIBUTES else tag
        assert part in order, f"unexpected element {tag} in log"
        assert order.index(part) >= seen, f"{tag} out of order"
        seen = order.index(part)
        if tag == "extension":
            assert child.get("name") and child.get("uri") and child.get("prefix")
            prefixes.add(child.get("prefix"))
        elif tag == "global":
            assert child.get("scope") in ("trace", "event")
        elif tag == "classifier":
            assert child.get("name") and child.get("keys")

    def attribute(element) -> None:  # noqa: ANN001
        tag = element.tag.removeprefix(XES)
        assert tag in ATTRIBUTES, f"{tag} is not an attribute type"
        key, value = element.get("key"), element.get("value")
        assert key and value is not None
        if ":" in key:
            assert key.split(":", 1)[0] in prefixes, f"{key} uses an undeclared extension"
        if tag == "date":
            assert datetime.fromisoformat(value).tzinfo is not None

    for trace in root.iter(f"{XES}trace"):
        for child in trace:
            if child.tag == f"{XES}event":
                for item in child:
                    attribute(item)
            else:
                attribute(child)
    for parent in root.iter():
        if parent.tag != f"{XES}trace":
            assert all(c.tag != f"{XES}event" for c in parent), "an event outside a trace"


def test_event_log_as_xes_and_csv(platform, hand_set) -> None:  # noqa: ANN001
    import csv
    import io
    from xml.etree import ElementTree

    from processes.heatmap.eventlog import as_csv, as_xes, events

    where = HeatFilter("p", T0, T0 + timedelta(days=1))
    with platform.db.session() as session:
        text = "".join(as_xes(events(session, where), "p"))
        table = list(csv.reader(io.StringIO("".join(as_csv(events(session, where))))))
    root = ElementTree.fromstring(text.encode())
    _check_xes_structure(root)
    traces = {
        t.find(f"{XES}string[@key='concept:name']").get("value"): [
            e.find(f"{XES}string[@key='concept:name']").get("value") for e in t.findall(f"{XES}event")
        ]
        for t in root.findall(f"{XES}trace")
    }
    assert traces == {
        "heat-A": ["start", "triage", "fix", "end"],
        "heat-B": ["start", "triage", "fix", "triage", "fix", "end"],
        "heat-C": ["start", "triage", "end"],
    }
    assert table[0] == ["case_id", "activity", "timestamp", "resource"]
    assert len(table) == 1 + 13
    assert table[2] == ["heat-A", "triage", (T0 + timedelta(seconds=60)).isoformat(), "t"]


def test_rows_written_after_a_heat_map_are_projected_by_the_next_one(platform, hand_set) -> None:  # noqa: ANN001
    """The projection is incremental: C's journal grows by a rework (triage again after 100 s, then end after
    20 s) after a first heat map was read; the next one sees the new visits, flows and stays, and A and B
    are not projected twice."""
    from sqlalchemy import func, insert, select, update

    from engine.models import JournalEvent, ProcessInstance
    from processes.heatmap.models import HeatVisit

    where = HeatFilter("p", T0, T0 + timedelta(days=1))
    with platform.db.session() as session:
        before = heat_map(session, where)
        projected = session.scalar(select(func.count()).select_from(HeatVisit))
    assert {n.element_id: n.visits for n in before.nodes}["triage"] == 4
    assert projected == 13 + 2  # p's 13 completions and the other process's 2
    with platform.db.session() as session:
        c = session.scalar(select(ProcessInstance).where(ProcessInstance.business_key == "heat-C"))
        last = T0 + timedelta(seconds=250)
        rows = [
            ("user_task_completed", "triage", last + timedelta(seconds=100)),
            ("task_completed", "end", last + timedelta(seconds=120)),
        ]
        session.execute(
            insert(JournalEvent),
            [
                {
                    "instance_id": c.id, "seq": c.journal_seq + i, "at": at, "actor": "t", "kind": kind,
                    "deployment_hash": "0" * 64, "task_id": f"C-late{i}", "task_spec": spec, "task_name": None,
                    "input": {}, "changes": None, "prev_hash": "0" * 64, "hash": "0" * 64,
                }
                for i, (kind, spec, at) in enumerate(rows, start=1)
            ],
        )  # fmt: skip
        session.execute(update(ProcessInstance).where(ProcessInstance.id == c.id).values(journal_seq=c.journal_seq + 2))
    with platform.db.session() as session:
        after = heat_map(session, where)
        projected = session.scalar(select(func.count()).select_from(HeatVisit))
    assert projected == 17
    nodes = {n.element_id: n for n in after.nodes}
    assert (nodes["triage"].visits, nodes["triage"].tickets, nodes["end"].visits, nodes["end"].tickets) == (5, 3, 4, 3)
    # triage stays 60, 120, 180, 240, 100: median 120, p90 240; end stays 30, 60, 10, 20
    assert (nodes["triage"].median_s, nodes["triage"].p90_s) == pytest.approx((120, 240), abs=0.01)
    assert (nodes["end"].median_s, nodes["end"].p90_s, nodes["end"].total_s) == pytest.approx((20, 60, 120), abs=0.01)
    assert FlowHeat("end", "triage", 1) in after.flows and FlowHeat("triage", "end", 2) in after.flows

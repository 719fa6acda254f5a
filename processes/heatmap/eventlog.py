"""The heat map's instances as an event log for process-mining tools: CSV or XES (IEEE 1849-2016).

One event per completion row of the journal (the rows the heat map counts), in journal order per case:
case id (the ticket number, else the instance id), activity (the element's name, else its id),
timestamp (UTC, ISO 8601) and resource (who completed it: a user name, ``engine`` or ``handler:…``).
Both writers stream, so a year of tickets never sits in memory as one document.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import quoteattr

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import JournalEvent, ProcessInstance

from .service import COMPLETIONS, HeatFilter, instances

CSV_COLUMNS = ("case_id", "activity", "timestamp", "resource")


@dataclass(frozen=True)
class LogEvent:
    case_id: str
    activity: str
    element_id: str
    timestamp: datetime
    resource: str


def events(session: Session, where: HeatFilter) -> Iterator[LogEvent]:
    query = (
        select(
            ProcessInstance.business_key,
            JournalEvent.instance_id,
            JournalEvent.task_name,
            JournalEvent.task_spec,
            JournalEvent.at,
            JournalEvent.actor,
        )
        .join(ProcessInstance, ProcessInstance.id == JournalEvent.instance_id)
        .where(
            JournalEvent.kind.in_(COMPLETIONS),
            JournalEvent.at >= where.start,
            JournalEvent.at < where.end,
            JournalEvent.instance_id.in_(instances(where).scalar_subquery()),
        )
        .order_by(JournalEvent.instance_id, JournalEvent.seq)
        .execution_options(yield_per=5000)
    )
    for key, instance_id, name, spec, at, actor in session.execute(query):
        yield LogEvent(key or str(instance_id), name or spec or "", spec or "", at, actor)


def as_csv(rows: Iterator[LogEvent]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for event in rows:
        writer.writerow((event.case_id, event.activity, event.timestamp.isoformat(), event.resource))
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


_XES_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xes.features="" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="__INVALID__"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
    <string key="org:resource" value="__INVALID__"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <classifier name="Resource" keys="org:resource"/>
"""


def as_xes(rows: Iterator[LogEvent], process_id: str) -> Iterator[str]:
    """An XES log: the standard's extensions for the keys used, globals, classifiers, one trace per case."""
    yield _XES_HEAD
    yield f'  <string key="concept:name" value={quoteattr(process_id)}/>\n'
    case: str | None = None
    for event in rows:
        if event.case_id != case:
            if case is not None:
                yield "  </trace>\n"
            case = event.case_id
            yield f'  <trace>\n    <string key="concept:name" value={quoteattr(case)}/>\n'
        yield (
            "    <event>\n"
            f'      <string key="concept:name" value={quoteattr(event.activity)}/>\n'
            f'      <date key="time:timestamp" value="{event.timestamp.isoformat(timespec="milliseconds")}"/>\n'
            f'      <string key="org:resource" value={quoteattr(event.resource)}/>\n'
            "    </event>\n"
        )
    if case is not None:
        yield "  </trace>\n"
    yield "</log>\n"

"""The heat map's projection of the journal: one row per node visit (issue 13 part B, speed).

The journal stays the record; these rows are derived from it (``processes.heatmap.visits``), so the
heat map aggregates narrow, indexed rows instead of windowing millions of wide journal rows per view.
A visit is a completion row of the journal (see ``processes.heatmap.service``) with what the window
over the instance's completions would have said about it, computed once when it is projected:

* ``prev_element`` / ``entered_at``: the instance's previous completion (the flow taken, the stay's start);
* ``stay_s``: ``left_at - entered_at`` in seconds;
* ``prev_visit_at``: when the instance last completed this same element (a loop), so "tickets that
  passed the element in a period" is a count of rows, not a DISTINCT over instances.

``HeatProgress`` says up to which journal ``seq`` each instance has been projected, and up to which
``seq`` (``cell_seq``) its visits are counted in the roll-up ``HeatCell`` under which ticket filter values.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class HeatVisit(Base):
    __tablename__ = "heat_visit"
    __table_args__ = (
        UniqueConstraint("instance_id", "seq", name="uq_heat_visit_instance_id_seq"),
        # the period's scan, covering every column the counts read
        Index(
            "ix_heat_visit_scan",
            "process_id",
            "left_at",
            "element_id",
            "prev_element",
            "entered_at",
            "prev_visit_at",
            "stay_s",
            "deployment_id",
            "instance_id",
        ),
        # the k-th smallest stay of one element (nearest-rank median and p90 on SQLite)
        Index("ix_heat_visit_stay", "process_id", "element_id", "stay_s", "left_at", "entered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    process_id: Mapped[str] = mapped_column(String(255))
    deployment_id: Mapped[int] = mapped_column(Integer)
    element_id: Mapped[str] = mapped_column(String(255))
    prev_element: Mapped[str | None] = mapped_column(String(255))
    entered_at: Mapped[datetime | None]
    left_at: Mapped[datetime]
    stay_s: Mapped[float | None] = mapped_column(Float)
    prev_visit_at: Mapped[datetime | None]


class HeatProgress(Base):
    """Where each instance's projection stands.  ``seq``: journal rows projected into ``heat_visit``;
    ``cell_seq``: visits counted in ``heat_cell``, under the ticket values ``urgency``, ``device_type``
    and ``engineer_group`` ('' when the instance has none; all three NULL while nothing is counted), so
    a ticket whose values changed since is moved to its new cells (:mod:`processes.heatmap.cells`)."""

    __tablename__ = "heat_progress"

    instance_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    cell_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    urgency: Mapped[str | None] = mapped_column(String(10))
    device_type: Mapped[str | None] = mapped_column(String(60))
    engineer_group: Mapped[str | None] = mapped_column(String(60))


# A cell's key: the columns of ``uq_heat_cell_key``, in order (processes.heatmap.cells reads keys as tuples).
KEY_COLUMNS = (
    "process_id",
    "span",
    "bucket",
    "deployment_id",
    "urgency",
    "device_type",
    "engineer_group",
    "element_id",
    "prev_element",
    "entered_day",
    "prev_day",
)


class HeatCell(Base):
    """The roll-up the heat map reads when its period is whole UTC days (:mod:`processes.heatmap.cells`):
    the visits of one day (``span`` 'd') or calendar month ('m') that share everything a heat map asks of
    them — process, version, the ticket's filter values, element, previous element — and the same
    answer to "did the stay start / the last visit of this element happen before a period start":

    * ``bucket``: the day or month's first day, in days since 1970-01-01 (UTC);
    * ``entered_day`` / ``prev_day``: the day the stay started / the element was last visited, kept
      exactly when before ``bucket`` and else ``bucket`` itself (any period holding the bucket starts on
      or before it); -1 when there is none;
    * ``visits`` (exact count) and ``stays``: every stay of these visits in seconds, sorted, packed as
      little-endian float64, so medians and p90 stay exact (empty when ``entered_day`` is -1)."""

    __tablename__ = "heat_cell"
    __table_args__ = (UniqueConstraint(*KEY_COLUMNS, name="uq_heat_cell_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(255))
    span: Mapped[str] = mapped_column(String(1))
    bucket: Mapped[int] = mapped_column(Integer)
    deployment_id: Mapped[int] = mapped_column(Integer)
    urgency: Mapped[str] = mapped_column(String(10))
    device_type: Mapped[str] = mapped_column(String(60))
    engineer_group: Mapped[str] = mapped_column(String(60))
    element_id: Mapped[str] = mapped_column(String(255))
    prev_element: Mapped[str] = mapped_column(String(255))  # '' for none
    entered_day: Mapped[int] = mapped_column(Integer)
    prev_day: Mapped[int] = mapped_column(Integer)
    visits: Mapped[int] = mapped_column(Integer)
    stays: Mapped[bytes] = mapped_column(LargeBinary)


class HeatPending(Base):
    """The instances one projection run works on, with the journal range it projects for each: fixed in
    its first statement, so later statements agree on it while journals keep growing (PostgreSQL reads
    each statement's own snapshot).  Rows live only inside the run's transaction."""

    __tablename__ = "heat_pending"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    instance_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    done_seq: Mapped[int] = mapped_column(Integer)
    upto_seq: Mapped[int] = mapped_column(Integer)

"""The heat map's projection of the journal: one row per node visit (issue 13 part B, speed).

The journal stays the record; these rows are derived from it (``processes.heatmap.visits``), so the
heat map aggregates narrow, indexed rows instead of windowing millions of wide journal rows per view.
A visit is a completion row of the journal (see ``processes.heatmap.service``) with what the window
over the instance's completions would have said about it, computed once when it is projected:

* ``prev_element`` / ``entered_at``: the instance's previous completion (the flow taken, the stay's start);
* ``stay_s``: ``left_at - entered_at`` in seconds;
* ``prev_visit_at``: when the instance last completed this same element (a loop), so "tickets that
  passed the element in a period" is a count of rows, not a DISTINCT over instances.

``HeatProgress`` says up to which journal ``seq`` each instance has been projected.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String, UniqueConstraint
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
    __tablename__ = "heat_progress"

    instance_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)


class HeatPending(Base):
    """The instances one projection run works on, with the journal range it projects for each: fixed in
    its first statement, so later statements agree on it while journals keep growing (PostgreSQL reads
    each statement's own snapshot).  Rows live only inside the run's transaction."""

    __tablename__ = "heat_pending"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    instance_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    done_seq: Mapped[int] = mapped_column(Integer)
    upto_seq: Mapped[int] = mapped_column(Integer)

"""What the heat-map page shows besides the numbers: the diagram the numbers are drawn on, the names of
its elements, the choices of each filter, and a colour level per node.

The diagram is the chosen version's, else the process's current deployment: an auditor looking at a
period that spans versions sees the latest drawing, and elements a later version removed are still in
the table (their ids are kept, so nothing counted disappears).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.elements import deployment_elements
from engine.models import Deployment
from engine.runtime import ProcessEngine

from ..devices.models import Device
from ..dispatch.models import EngineerGroup
from .service import HeatMap

URGENCIES = ("red", "orange", "yellow", "blue")
LEVELS = 5  # colour steps of the time scale (CSS heat-1 … heat-5; heat-0 is "no time measured")


@dataclass(frozen=True)
class Version:
    deployment_id: int
    activation: int
    activated_at: datetime


@dataclass(frozen=True)
class Choices:
    """The values each filter offers (codes; the page names them in the reader's language)."""

    processes: tuple[str, ...]
    urgencies: tuple[str, ...]
    device_types: tuple[str, ...]
    engineer_groups: tuple[str, ...]
    versions: tuple[Version, ...]


@dataclass(frozen=True)
class Drawing:
    """A process's diagram: the BPMN text and each element's names (drawn name, and by language)."""

    xml: str
    names: dict[str, dict[str, str]] = field(default_factory=dict)

    def name(self, element_id: str, language: str) -> str:
        """The element's name in ``language`` (e.g. ``zh_Hans``), else its drawn name, else its id."""
        names = self.names.get(element_id, {})
        return names.get(language) or names.get("") or element_id


def choices(session: Session, process_id: str) -> Choices:
    device_types = session.scalars(select(Device.device_type).distinct().order_by(Device.device_type))
    groups = session.scalars(select(EngineerGroup.name).order_by(EngineerGroup.name))
    deployments = list(session.scalars(select(Deployment).order_by(Deployment.activation.desc(), Deployment.id.desc())))
    processes = sorted({str(p) for row in deployments for p in (row.process_ids or [])})
    versions = [Version(r.id, r.activation, r.activated_at) for r in deployments if process_id in (r.process_ids or [])]
    return Choices(tuple(processes), URGENCIES, tuple(device_types), tuple(groups), tuple(versions))


def drawing(session: Session, engine: ProcessEngine, process_id: str, deployment_id: int | None) -> Drawing | None:
    """The diagram of ``process_id`` in that deployment (else the current one); None if it has none."""
    row = session.get(Deployment, deployment_id) if deployment_id else engine.deployments.current(session, process_id)
    if row is None or process_id not in (row.process_ids or []):
        return None
    if not any(f'id="{process_id}"' in str(text) for text in (row.files or {}).values()):
        return None  # a deployment row without its drawing (bulk-loaded data): numbers only
    parsed = engine.deployments.parsed(session, row.id)
    xml = parsed.files.get(engine.deployments.file_of(parsed, process_id), "")
    elements = deployment_elements(parsed, process_id).elements
    names = {key: {**dict(e.names), **_dotted_names(e.properties)} for key, e in elements.items()}
    return Drawing(xml, names)


def _dotted_names(properties: Mapping[str, object]) -> dict[str, str]:
    """``name.zh_Hans`` properties (the lifecycle's spelling) by language."""
    return {k[len("name.") :]: str(v) for k, v in properties.items() if k.startswith("name.") and v}


def time_levels(heat: HeatMap) -> dict[str, int]:
    """Each node's colour step by its median stay against the slowest node's: 1 (quick) … LEVELS (slowest).
    Nodes with no measured stay (start events) or a zero median get 0."""
    medians = {n.element_id: n.median_s or 0.0 for n in heat.nodes}
    slowest = max(medians.values(), default=0.0)
    if slowest <= 0:
        return dict.fromkeys(medians, 0)
    return {k: 0 if m <= 0 else max(1, min(LEVELS, 1 + int(LEVELS * m / slowest - 1e-9))) for k, m in medians.items()}


def level_edges(heat: HeatMap) -> list[float]:
    """The upper median (seconds) of each colour step, for the legend."""
    slowest = max((n.median_s or 0.0 for n in heat.nodes), default=0.0)
    return [slowest * step / LEVELS for step in range(1, LEVELS + 1)] if slowest > 0 else []


__all__ = ["URGENCIES", "Choices", "Drawing", "Version", "choices", "drawing", "level_edges", "time_levels"]

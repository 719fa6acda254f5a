"""Start a new process from a shipped template: an editable draft under the owner's own process id.

A template is deployed by nobody: its files are copied into a :class:`~processes.modeling.models.ProcessDraft`
of a process that does not exist yet, with the BPMN process id (and every reference to it: the pool's
``processRef``, a diagram plane drawn on the process) rewritten to the new id and the names the owner gave
written onto the process and its pool (``name`` in English, ``name.zh_Hans`` / ``name.en`` properties).
The editor then validates and deploys that draft like any other; deploying it creates the process.

The new id is refused while it names a deployed process (retired or not: ids are never reused) or an open
draft, or an element of the template itself (the copy would hold the id twice).  Other processes a template
ships beside its ticket process (the maintenance template's ``preventive_schedule``) keep their ids: code
that starts them names them, and a copy of one is the same schedule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.deployments import is_bpmn
from engine.models import Deployment
from engine.runtime import ProcessEngine

from ..errors import FieldProblem, Invalid
from ..modeling import service as modeling
from ..modeling.models import ProcessDraft
from .catalog import TEMPLATES_DIR, Template, template_files, templates

PROCESS_ID = re.compile(r"^[a-z][a-z0-9_]{2,62}$")
MAX_NAME_CHARS = 120
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
_XML = etree.XMLParser(resolve_entities=False, no_network=True)
# The name properties the readers look for (engine.elements.process_names), by the language they hold.
NAME_PROPERTIES = {"en": "name.en", "zh": "name.zh_Hans"}


@dataclass(frozen=True)
class NewProcess:
    """What the owner asked for: which template, the new process id and its name in both languages."""

    template: str
    process_id: str
    name_en: str
    name_zh: str


@dataclass(frozen=True)
class TemplateStart:
    """The shipped templates, and new processes started from them as drafts."""

    engine: ProcessEngine
    directory: Path = TEMPLATES_DIR

    def choices(self) -> list[Template]:
        return templates(self.directory)

    def start(self, session: Session, asked: Mapping[str, object], actor: str) -> ProcessDraft:
        """A draft of the new process, journaled as created from the template; Invalid naming every bad field."""
        wanted = self._checked(session, asked)
        template = next(t for t in self.choices() if t.key == wanted.template)
        files = renamed(template_files(template.key, self.directory), template.process_id, wanted)
        return modeling.new_process_draft(
            session, self.engine, wanted.process_id, files, actor, detail={"template": template.key}
        )

    def _checked(self, session: Session, asked: Mapping[str, object]) -> NewProcess:
        text = {key: _text(asked.get(key)) for key in ("template", "process_id", "name_en", "name_zh")}
        problems: list[FieldProblem] = []
        known = {t.key: t for t in self.choices()}
        if not text["template"]:
            problems.append(FieldProblem("template", "required"))
        elif text["template"] not in known:
            problems.append(FieldProblem("template", "unknown_template", {"template": text["template"][:80]}))
        problem = self._process_id_problem(session, text["process_id"], known.get(text["template"]))
        if problem is not None:
            problems.append(problem)
        for field in ("name_en", "name_zh"):
            if not text[field]:
                problems.append(FieldProblem(field, "required"))
            elif len(text[field]) > MAX_NAME_CHARS:
                problems.append(
                    FieldProblem(field, "max_length", {"limit": MAX_NAME_CHARS, "actual": len(text[field])})
                )
        if problems:
            raise Invalid("invalid_input", problems=problems)
        return NewProcess(**text)

    def _process_id_problem(self, session: Session, value: str, template: Template | None) -> FieldProblem | None:
        params = {"process": value[:80]}
        if not value:
            return FieldProblem("process_id", "required")
        if not PROCESS_ID.fullmatch(value):
            return FieldProblem("process_id", "process_id_format", params)
        if value in deployed_process_ids(session):
            return FieldProblem("process_id", "process_id_deployed", params)
        if session.scalar(select(ProcessDraft.id).where(ProcessDraft.process_id == value).limit(1)) is not None:
            return FieldProblem("process_id", "process_id_drafted", params)
        drawn = element_ids(template_files(template.key, self.directory)) if template else set()
        if template and value in drawn - {template.process_id}:
            return FieldProblem("process_id", "process_id_clash", params)
        return None


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def deployed_process_ids(session: Session) -> set[str]:
    """Every process id any deployment ever held (retired ones included: an id is never given twice)."""
    return {str(p) for row in session.scalars(select(Deployment.process_ids)) for p in row or ()}


def element_ids(files: Mapping[str, str]) -> set[str]:
    """Every ``id`` attribute in the XML files (diagrams and decision tables)."""
    found: set[str] = set()
    for name, text in files.items():
        if is_bpmn(name) or name.endswith(".dmn"):
            root = etree.fromstring(text.encode("utf-8"), _XML)
            found |= {str(n.get("id")) for n in root.iter() if isinstance(n.tag, str) and n.get("id")}
    return found


def renamed(files: Mapping[str, str], old_id: str, wanted: NewProcess) -> dict[str, str]:
    """The template's files with the process id ``old_id`` replaced and the new names written on it; the
    diagram defining the process is stored as ``<new id>.bpmn``, the other files under their own names."""
    copied = {name: _renamed_diagram(text, old_id, wanted) if is_bpmn(name) else text for name, text in files.items()}
    diagram = modeling.file_of(files, old_id)
    target = f"{wanted.process_id}.bpmn"
    if diagram and target not in copied:
        copied[target] = copied.pop(diagram)
    return dict(sorted(copied.items()))


def _renamed_diagram(text: str, old_id: str, wanted: NewProcess) -> str:
    root = etree.fromstring(text.encode("utf-8"), _XML)
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        for attribute, value in node.attrib.items():
            if value == old_id:  # the process's id, a pool's processRef, a plane's bpmnElement, a call's target
                node.set(attribute, wanted.process_id)
    named = [p for p in root.iter(f"{BPMN}process") if p.get("id") == wanted.process_id]
    named += [p for p in root.iter(f"{BPMN}participant") if p.get("processRef") == wanted.process_id]
    for node in named:
        node.set("name", wanted.name_en)
        _set_property(node, NAME_PROPERTIES["en"], wanted.name_en)
        _set_property(node, NAME_PROPERTIES["zh"], wanted.name_zh)
    return etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=True).decode("utf-8")


def _set_property(node: etree._Element, name: str, value: str) -> None:
    """Set ``spiffworkflow:property name=… value=…`` in the element's own extension elements."""
    extensions = node.find(f"{BPMN}extensionElements")
    if extensions is None:
        extensions = etree.Element(f"{BPMN}extensionElements")
        node.insert(0, extensions)  # extensionElements come first in a BPMN element (after documentation)
        documentation = node.find(f"{BPMN}documentation")
        if documentation is not None:
            documentation.addnext(extensions)
    properties = extensions.find(f"{SPIFF}properties")
    if properties is None:
        properties = etree.SubElement(extensions, f"{SPIFF}properties")
    for prop in properties.findall(f"{SPIFF}property"):
        if prop.get("name") == name:
            prop.set("value", value)
            return
    etree.SubElement(properties, f"{SPIFF}property", name=name, value=value)

"""Import a BPMN file drawn by another tool as a draft the process editor opens.

Other tools write files in any XML encoding (the MIWG reference diagrams declare ISO-8859-1) and name
them ``.bpmn`` or ``.bpmn20.xml``; the editor, bpmn-js and the engine's content hash want one form.  So an
upload is parsed once with its declared encoding (entities and network access off), checked to be BPMN
with a process, and stored re-serialised as UTF-8 under a ``.bpmn`` name.  Whether it can *run* is not
asked here: a draft may be unfinished; the editor's validate and deploy give the engine's refusals.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from sqlalchemy.orm import Session

from engine.runtime import ProcessEngine
from processes.errors import FieldProblem, Invalid
from processes.modeling import service as modeling
from processes.modeling.models import ProcessDraft

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SUFFIXES = (".bpmn", ".bpmn20.xml", ".xml")
MAX_BYTES = 2_000_000  # the editor's own draft file limit (modeling.MAX_FILE_CHARS)


@dataclass(frozen=True)
class Diagram:
    """An uploaded diagram in the form drafts store: a ``.bpmn`` name, UTF-8 text, its process ids."""

    name: str
    text: str
    process_ids: list[str]


def _refuse(code: str, **params: object) -> Invalid:
    return Invalid("invalid_input", problems=[FieldProblem("file", code, dict(params))])


def read_diagram(filename: object, data: object) -> Diagram:
    """The upload as a :class:`Diagram`, or Invalid naming the file field and what is wrong with it."""
    if not isinstance(filename, str) or not filename.strip() or not isinstance(data, bytes) or not data:
        raise _refuse("required")
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not base.lower().endswith(SUFFIXES):
        raise _refuse("diagram_file_type", name=base[:100])
    if len(data) > MAX_BYTES:
        raise _refuse("too_large", max_bytes=MAX_BYTES)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as err:
        line = getattr(err, "lineno", None) or 0
        raise _refuse("diagram_xml", line=line, error=str(err)[:200]) from None
    if root.tag != f"{BPMN}definitions":
        raise _refuse("diagram_not_bpmn", root=etree.QName(root).localname[:50])
    ids = [p.get("id") for p in root.iter(f"{BPMN}process") if p.get("id")]
    if not ids:
        raise _refuse("diagram_no_process")
    executable = [p.get("id") for p in root.iter(f"{BPMN}process") if p.get("isExecutable") == "true" and p.get("id")]
    text = etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=True).decode("utf-8")
    stem = base
    for suffix in (".bpmn20.xml", ".bpmn", ".xml"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return Diagram(
        name=f"{stem or 'diagram'}.bpmn", text=text, process_ids=executable + [i for i in ids if i not in executable]
    )


def import_draft(session: Session, engine: ProcessEngine, filename: object, data: object, actor: str) -> ProcessDraft:
    """A draft holding the uploaded diagram: of the running process with the same id (its other files —
    forms, decisions — kept, the diagram replaced), or of a new process when none runs under that id."""
    diagram = read_diagram(filename, data)
    process_id = diagram.process_ids[0]
    running = engine.deployments.current(session, process_id)
    if running is None:
        now = engine.clock.now()
        draft = ProcessDraft(
            process_id=process_id,
            author=actor,
            files={diagram.name: diagram.text},
            base_deployment_id=None,
            created_at=now,
            updated_at=now,
        )
        session.add(draft)
        session.flush()
        return modeling.save_draft(session, engine, draft.id, {diagram.name: diagram.text}, actor)
    draft = modeling.start_draft(session, engine, process_id, actor)
    files = dict(draft.files)
    files.pop(modeling.file_of(files, process_id), None)
    files[diagram.name] = diagram.text
    draft.files = files
    return modeling.save_draft(session, engine, draft.id, {diagram.name: diagram.text}, actor)

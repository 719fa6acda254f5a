"""The process owner's editor as a service: processes and versions, drafts, validation, deploy, diff.

Drafts copy every file of the version they start from (see :mod:`processes.modeling.models`), so a
draft is validated and deployed by the engine's own deployment path — the same checks as
``closeloop deploy``, including the sandbox's check of every expression — and nothing here decides
what may run.  Deploying is refused while any problem remains and needs a change note; every save
and deploy (and every refused deploy) is a :class:`ProcessChange` row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from engine.deployments import LANES_FILE, MODEL_SUFFIXES, content_hash, is_bpmn, parse
from engine.models import STOPPED, Deployment, ProcessInstance
from engine.runtime import ProcessEngine
from engine.validation import DeploymentError

from ..errors import FieldProblem, Invalid, NotFound
from ..notifications import process_texts
from ..versions.service import check_deployable
from .diff import Change, diff_files
from .models import ProcessChange, ProcessDraft

MAX_FILE_CHARS = 2_000_000  # a 10,000-element diagram is about 3 MB of XML; ours are 60 kB
MAX_NOTE_CHARS = 2_000
MAX_FILES = 200


@dataclass(frozen=True)
class Version:
    """One deployment that holds the process: its number in activation order, who and when, its tickets."""

    deployment_id: int
    number: int
    content_hash: str
    created_by: str
    created_at: datetime
    running: bool
    open_instances: int
    all_instances: int
    note: str = ""


@dataclass(frozen=True)
class DraftSummary:
    id: int
    author: str
    updated_at: datetime
    base_deployment_id: int | None


@dataclass(frozen=True)
class ProcessSummary:
    process_id: str
    name: str
    file: str
    versions: tuple[Version, ...]
    drafts: tuple[DraftSummary, ...] = field(default_factory=tuple)
    name_zh: str = ""

    def name_in(self, zh: bool) -> str:
        return (self.name_zh or self.name) if zh else self.name

    @property
    def running(self) -> Version | None:
        return next((v for v in self.versions if v.running), None)


@dataclass(frozen=True)
class ProblemView:
    """A validation problem as the editor shows it: the file, the element to highlight and why."""

    file: str
    element_id: str
    element_type: str
    element_name: str
    reason: str
    code: str

    def as_json(self) -> dict[str, str]:
        return {
            "file": self.file,
            "element_id": self.element_id,
            "element_type": self.element_type,
            "element_name": self.element_name,
            "reason": self.reason,
            "code": self.code,
        }


def file_of(files: Mapping[str, str], process_id: str) -> str:
    """The BPMN file defining ``process_id`` (the first whose process element has that id)."""
    for name, text in sorted(files.items()):
        if is_bpmn(name) and f'id="{process_id}"' in text:
            return name
    return ""


def _process_name(text: str, process_id: str) -> tuple[str, str]:
    """The process's drawn name, and its Chinese one (``name.zh_Hans`` of the process, else of its pool)."""
    try:
        root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return process_id, ""
    bpmn = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
    process = next((n for n in root.iter(f"{bpmn}process") if n.get("id") == process_id), None)
    pools = [n for n in root.iter(f"{bpmn}participant") if n.get("processRef") == process_id]
    chinese = ""
    for owner in [*pools[:1], *([process] if process is not None else [])]:
        for prop in owner.iterfind(f"{bpmn}extensionElements/*/*"):
            if etree.QName(prop).localname == "property" and prop.get("name") == "name.zh_Hans" and prop.get("value"):
                chinese = str(prop.get("value"))
    return (process.get("name") or process_id) if process is not None else process_id, chinese


def processes(session: Session) -> list[ProcessSummary]:
    """Every process ever deployed with its versions (newest first), open and total tickets per version."""
    deployments = list(session.scalars(select(Deployment).order_by(Deployment.activation.desc(), Deployment.id.desc())))
    counts: dict[tuple[int, str], tuple[int, int]] = {}
    rows = session.execute(
        select(
            ProcessInstance.deployment_id,
            ProcessInstance.process_id,
            func.count(),
            func.sum(case((ProcessInstance.status.not_in(STOPPED), 1), else_=0)),
        ).group_by(ProcessInstance.deployment_id, ProcessInstance.process_id)
    )
    for deployment_id, process_id, total, open_ in rows:
        counts[(deployment_id, process_id)] = (int(open_ or 0), int(total))
    notes = {
        (c.process_id, c.deployment_hash): c.note
        for c in session.scalars(select(ProcessChange).where(ProcessChange.action == "deployed"))
    }
    drafts: dict[str, list[DraftSummary]] = {}
    for draft in session.scalars(select(ProcessDraft).order_by(ProcessDraft.updated_at.desc())):
        drafts.setdefault(draft.process_id, []).append(
            DraftSummary(draft.id, draft.author, draft.updated_at, draft.base_deployment_id)
        )
    by_process: dict[str, list[Version]] = {}
    names: dict[str, tuple[tuple[str, str], str]] = {}
    for deployment in deployments:
        for process_id in deployment.process_ids:
            versions = by_process.setdefault(process_id, [])
            if process_id not in names:
                file = file_of(deployment.files, process_id)
                names[process_id] = (_process_name(deployment.files.get(file, ""), process_id), file)
            open_, total = counts.get((deployment.id, process_id), (0, 0))
            versions.append(
                Version(
                    deployment.id,
                    0,
                    deployment.content_hash,
                    deployment.created_by,
                    deployment.created_at,
                    not versions,
                    open_,
                    total,
                    notes.get((process_id, deployment.content_hash), ""),
                )
            )
    summaries = []
    for process_id in sorted(by_process):
        versions = by_process[process_id]
        numbered = tuple(Version(**{**v.__dict__, "number": len(versions) - index}) for index, v in enumerate(versions))
        (name, name_zh), file = names[process_id]
        drafted = tuple(drafts.get(process_id, ()))
        summaries.append(ProcessSummary(process_id, name, file, numbered, drafted, name_zh))
    return summaries + _new_processes(session, drafts, set(by_process))


def _new_processes(
    session: Session, drafts: Mapping[str, list[DraftSummary]], deployed: set[str]
) -> list[ProcessSummary]:
    """Processes that exist only as drafts (from a template or an imported diagram), named by their newest draft."""
    found = []
    for process_id in sorted(set(drafts) - deployed):
        newest = session.get(ProcessDraft, drafts[process_id][0].id)
        files = dict(newest.files) if newest is not None else {}
        file = file_of(files, process_id)
        name, name_zh = _process_name(files.get(file, ""), process_id)
        found.append(ProcessSummary(process_id, name, file, (), tuple(drafts[process_id]), name_zh))
    return found


def _journal(
    session: Session,
    process_id: str,
    action: str,
    actor: str,
    now: datetime,
    *,
    note: str = "",
    draft_id: int | None = None,
    deployment_hash: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        ProcessChange(
            process_id=process_id,
            action=action,
            actor=actor,
            note=note,
            draft_id=draft_id,
            deployment_hash=deployment_hash,
            detail=detail or {},
            at=now,
        )
    )


def changes(session: Session, process_id: str) -> list[ProcessChange]:
    """The process's journal of saves and deploys, newest first."""
    query = select(ProcessChange).where(ProcessChange.process_id == process_id)
    return list(session.scalars(query.order_by(ProcessChange.id.desc())))


def running(session: Session, engine: ProcessEngine, process_id: str) -> Deployment:
    deployment = engine.deployments.current(session, process_id)
    if deployment is None:
        raise NotFound("process_not_found", process=process_id)
    return deployment


def start_draft(session: Session, engine: ProcessEngine, process_id: str, author: str) -> ProcessDraft:
    """A new draft of ``process_id``: a copy of every file of its running version."""
    base = running(session, engine, process_id)
    now = engine.clock.now()
    draft = ProcessDraft(
        process_id=process_id,
        author=author,
        files=dict(base.files),
        base_deployment_id=base.id,
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    _journal(session, process_id, "created", author, now, draft_id=draft.id, deployment_hash=base.content_hash)
    return draft


def new_process_draft(
    session: Session,
    engine: ProcessEngine,
    process_id: str,
    files: Mapping[str, str],
    author: str,
    *,
    detail: dict[str, Any] | None = None,
) -> ProcessDraft:
    """A draft of a process nothing has deployed yet: ``files`` as given, no version to start from."""
    now = engine.clock.now()
    draft = ProcessDraft(
        process_id=process_id, author=author, files=dict(files), base_deployment_id=None, created_at=now, updated_at=now
    )
    session.add(draft)
    session.flush()
    _journal(session, process_id, "created", author, now, draft_id=draft.id, detail=detail)
    return draft


def get_draft(session: Session, draft_id: int) -> ProcessDraft:
    draft = session.get(ProcessDraft, draft_id)
    if draft is None:
        raise NotFound("draft_not_found", id=draft_id)
    return draft


def _check_file(name: object, text: object, known: Mapping[str, str]) -> FieldProblem | None:
    if not isinstance(name, str) or not isinstance(text, str):
        return FieldProblem("files", "draft_file_type")
    if name not in known and not (name.endswith(MODEL_SUFFIXES) or name == LANES_FILE):
        return FieldProblem(f"files.{name}", "draft_file_name", {"name": name[:100]})
    if ".." in name.split("/") or name.startswith("/"):
        return FieldProblem(f"files.{name}", "draft_file_name", {"name": name[:100]})
    if len(text) > MAX_FILE_CHARS:
        return FieldProblem(f"files.{name}", "draft_file_size", {"name": name, "limit": MAX_FILE_CHARS})
    if name.endswith((".bpmn", ".bpmn20.xml", ".dmn")):
        try:
            etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
        except (etree.XMLSyntaxError, ValueError) as err:
            return FieldProblem(f"files.{name}", "draft_file_xml", {"name": name, "error": str(err)[:200]})
    return None


def save_draft(session: Session, engine: ProcessEngine, draft_id: int, files: object, actor: str) -> ProcessDraft:
    """Replace some of the draft's files; each must be well-formed (checked fully only at validate/deploy)."""
    draft = get_draft(session, draft_id)
    if not isinstance(files, dict) or not files:
        raise Invalid("invalid_input", problems=[FieldProblem("files", "required")])
    problems = [p for name, text in files.items() if (p := _check_file(name, text, draft.files)) is not None]
    if len(set(draft.files) | set(files)) > MAX_FILES:
        problems.append(FieldProblem("files", "max_items", {"limit": MAX_FILES}))
    if problems:
        raise Invalid("invalid_input", problems=problems)
    changed = sorted(name for name, text in files.items() if draft.files.get(name) != text)
    draft.files = {**draft.files, **files}
    draft.updated_at = engine.clock.now()
    _journal(session, draft.process_id, "saved", actor, draft.updated_at, draft_id=draft.id, detail={"files": changed})
    session.flush()
    return draft


def discard_draft(session: Session, engine: ProcessEngine, draft_id: int, actor: str) -> None:
    draft = get_draft(session, draft_id)
    _journal(session, draft.process_id, "discarded", actor, engine.clock.now(), draft_id=draft.id)
    session.delete(draft)
    session.flush()


def validate(engine: ProcessEngine, files: dict[str, str], locale: str = "en") -> list[ProblemView]:
    """Every problem the engine's deployment check finds in ``files`` (empty when they would deploy), and those
    of the notification texts the process carries, explained in ``locale``."""
    texts = [
        ProblemView(
            process_texts.FILE, p.kind, process_texts.element_type(locale), p.field, p.reason_in(locale), p.code
        )
        for p in process_texts.problems(files)
    ]
    try:
        parse(files, engine.registry)
    except DeploymentError as err:
        return [
            ProblemView(p.file, p.element_id, p.element_type, p.element_name, p.reason, p.code) for p in err.problems
        ] + texts
    return texts


def deploy_draft(
    session: Session, engine: ProcessEngine, draft_id: int, actor: str, note: object, locale: str = "en"
) -> Deployment:
    """Deploy the draft as a new immutable version, or refuse listing every problem (journaled both ways)."""
    draft = get_draft(session, draft_id)
    text = note.strip() if isinstance(note, str) else ""
    if not text:
        raise Invalid("invalid_input", problems=[FieldProblem("note", "change_note_required")])
    if len(text) > MAX_NOTE_CHARS:
        raise Invalid(
            "invalid_input",
            problems=[FieldProblem("note", "max_length", {"limit": MAX_NOTE_CHARS, "actual": len(text)})],
        )
    problems = validate(engine, dict(draft.files), locale)
    now = engine.clock.now()
    if problems:
        raise DeployRefused(problems)
    before = engine.deployments.current(session, draft.process_id)  # None: the draft makes a new process
    if before is not None and before.content_hash == _hash(draft.files):
        raise Invalid("invalid_input", problems=[FieldProblem("files", "draft_unchanged")])
    check_deployable(session, dict(draft.files))  # a retired version is not brought back by a draft
    deployment = engine.deployments.deploy(session, dict(draft.files), actor)
    summary = [c.as_json() for c in diff_files(dict(before.files) if before else {}, dict(draft.files))]
    _journal(
        session,
        draft.process_id,
        "deployed",
        actor,
        now,
        note=text,
        draft_id=draft.id,
        deployment_hash=deployment.content_hash,
        detail={"from": before.content_hash if before else None, "changes": summary[:500]},
    )
    session.delete(draft)
    session.flush()
    return deployment


def journal_refusal(
    session: Session, engine: ProcessEngine, draft_id: int, actor: str, note: object, problems: list[ProblemView]
) -> None:
    """Record a refused deploy (in its own transaction: the refusal itself rolls the request back)."""
    draft = get_draft(session, draft_id)
    _journal(
        session,
        draft.process_id,
        "refused",
        actor,
        engine.clock.now(),
        note=note.strip()[:MAX_NOTE_CHARS] if isinstance(note, str) else "",
        draft_id=draft.id,
        detail={"problems": [p.as_json() for p in problems[:200]]},
    )


def _hash(files: Mapping[str, Any]) -> str:
    return content_hash(dict(files))


class DeployRefused(Invalid):
    """A deploy refused because the draft has problems; ``found`` lists them for the editor."""

    def __init__(self, found: list[ProblemView]) -> None:
        super().__init__("deploy_has_problems", count=len(found))
        self.found = found


def running_files(session: Session, engine: ProcessEngine, process_id: str) -> dict[str, str]:
    """The files of the version running now; none for a process only drafts hold so far."""
    current = engine.deployments.current(session, process_id)
    return dict(current.files) if current is not None else {}


def draft_diff(session: Session, engine: ProcessEngine, draft: ProcessDraft) -> list[Change]:
    """The draft against the version running now (not the one it started from: that is what deploy replaces)."""
    return diff_files(running_files(session, engine, draft.process_id), dict(draft.files))


def decision_ids(files: Mapping[str, str]) -> list[str]:
    """The decisions the draft's DMN files define (a business rule task calls one by id)."""
    found: list[str] = []
    for name, text in sorted(files.items()):
        if not name.endswith(".dmn"):
            continue
        try:
            root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            continue
        found += [n.get("id", "") for n in root.iter() if etree.QName(n).localname == "decision" and n.get("id")]
    return found


def lane_roles(files: Mapping[str, str]) -> dict[str, list[str]]:
    """The lane → roles map of the draft (``lanes.json``), empty when it is missing or unreadable."""
    try:
        lanes = json.loads(files.get(LANES_FILE, "{}"))
    except ValueError:
        return {}
    if not isinstance(lanes, dict):
        return {}
    return {str(k): [str(r) for r in v] for k, v in lanes.items() if isinstance(v, list)}

"""Immutable, content-hashed deployments and the parsed specs they yield.

A deployment is every diagram, decision table, form schema and the lane→role map of a models
directory under one hash (DESIGN rule 2).  Deploying the same content again returns the same row; an
instance pins the deployment it started on, so editing a diagram never changes a running ticket.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

from jsonschema import Draft202012Validator
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import forms
from .clock import Clock
from .deep_parse import run_deep
from .expression_sites import script_extensions
from .handlers import HandlerRegistry
from .models import Deployment
from .parser import ClosedLoopParser
from .validation import DeploymentError, Problem, check_specs, check_xml, flow_elements

T = TypeVar("T")
BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml")
MODEL_SUFFIXES = (*BPMN_SUFFIXES, ".dmn", ".json")
LANES_FILE = "lanes.json"


def is_bpmn(name: str) -> bool:
    """``.bpmn20.xml`` is the other usual name of a BPMN file (Camunda, Activiti, Flowable tests)."""
    return name.endswith(BPMN_SUFFIXES)


def read_models(directory: Path) -> dict[str, str]:
    """The deployable files of a directory, keyed by their path relative to it."""
    return {
        str(path.relative_to(directory)): path.read_text(encoding="utf-8")
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name.endswith(MODEL_SUFFIXES)
    }


def content_hash(files: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(files[name].encode()).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class ParsedDeployment:
    """What the runtime needs from a deployment, parsed once per process and hash."""

    hash: str
    files: dict[str, str]
    specs: dict[str, Any]
    subprocess_specs: dict[str, dict[str, Any]]
    lanes: dict[str, list[str]]
    _derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def derived(self, key: str, build: Callable[[], T]) -> T:
        """What is computed once from this deployment (a form schema, a validator, the element views),
        kept with it: it lives and dies with the parsed deployment, so no cache elsewhere outlives it."""
        if key not in self._derived:
            self._derived[key] = build()
        return cast(T, self._derived[key])

    def form(self, name: str) -> dict[str, object]:
        """The form schema ``name`` (parsed once; callers must not modify it)."""
        return self.derived(f"form:{name}", lambda: forms.load_schema(self.files[f"forms/{name}"]))

    def validator(self, name: str) -> Draft202012Validator:
        return self.derived(f"validator:{name}", lambda: forms.validator(self.form(name)))


def _element_in(text: str) -> tuple[str, str]:
    """(kind, id) of an XML element SpiffWorkflow put in an error's arguments, e.g. b'<bpmn2:boundaryEvent id=…'."""
    match = _ELEMENT.search(text)
    if match is None:
        return "", ""
    local = match.group(1).split(":")[-1]
    kind = "".join(" " + c.lower() if c.isupper() else c for c in local).strip()
    return kind, match.group(2) or ""


_ELEMENT = re.compile(r"<([\w:.-]+)[^>]*?\bid=[\"']([^\"']*)")


_EXCEPTION_REPR = re.compile(r"^(\w+)\((['\"])(.*?)\2")
_FIRST_CHILD = re.compile(r"^b?['\"]?<[^>]*>\s*<([\w:.-]+)")


def _readable(reason: str) -> str:
    """SpiffWorkflow wraps some errors as their repr: ``NotImplementedError('Unsupported Catch Event: %r', b'<…>')``.

    Say the message in words, with the kind of the offending child element (``compensateEventDefinition``).
    """
    match = _EXCEPTION_REPR.match(reason.strip())
    if match is None:
        return reason
    message = match.group(3).replace("%r", "").replace("%s", "").strip().rstrip(":").strip()
    rest = reason.strip()[match.end() :].lstrip(", ")
    child = _FIRST_CHILD.match(rest)
    if child is not None:
        message += f" ({child.group(1).split(':')[-1]})"
    prefix = "not supported by the engine: " if match.group(1) == "NotImplementedError" else ""
    return prefix + message


def _failure(err: BaseException, file: str, element_id: str = "", kind: str = "") -> Problem:
    """A refusal for an error SpiffWorkflow raised, naming the file and, when it can be found, the element."""
    if isinstance(err, ValidationException):
        tag = (err.tag or "").split("}")[-1].replace("bpmn:", "")
        tag = "".join(" " + c.lower() if c.isupper() else c for c in tag).strip()
        reason = _readable(str(err.args[0])) if err.args else type(err).__name__
        return Problem(err.file_name or file, err.id or element_id, tag or kind, err.name or "", reason, "spiff")
    texts = [a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in err.args]
    found_kind, found_id = next((_element_in(t) for t in texts if _element_in(t)[1]), ("", ""))
    reason = next((t for t in texts if not t.lstrip().startswith("<")), "") or type(err).__name__
    if isinstance(err, RecursionError):
        reason = "the diagram is nested or chained too deeply to be read"
    elif isinstance(err, NotImplementedError):
        reason = f"not supported by the engine: {reason}"
    return Problem(file, found_id or element_id, found_kind or kind, "", reason.strip()[:500], "spiff")


_XSD_ELEMENT = re.compile(r"Element '([^']+)'")


def _schema_problem(problem: Problem, err: BaseException, root: Any) -> Problem:
    """Name the element of an XML-schema refusal (the validator gives only a line and a tag).

    The element is the one with that tag on that line (or anywhere, when the file is one long line),
    and a refusal names its nearest ancestor with an id.
    """
    match = _XSD_ELEMENT.search(problem.reason)
    if problem.element_id or root is None or match is None:
        return problem
    tag, line = match.group(1), getattr(err, "line_number", None)
    found = [e for e in root.iter(tag) if e.sourceline == line] or list(root.iter(tag))
    node = found[0] if found else None
    while node is not None and not node.get("id"):
        node = node.getparent()
    if node is None:
        return problem
    local = etree.QName(node).localname
    kind = "".join(" " + c.lower() if c.isupper() else c for c in local).strip()
    reason = f"{problem.reason} (line {line})" if line else problem.reason
    return Problem(problem.file, node.get("id"), kind, node.get("name", "") or "", reason, "schema")


def _lanes(files: dict[str, str], problems: list[Problem]) -> dict[str, list[str]] | None:
    if LANES_FILE not in files:
        return None
    try:
        lanes = json.loads(files[LANES_FILE]) if forms.json_depth(files[LANES_FILE]) <= 3 else None
        if not isinstance(lanes, dict) or not all(isinstance(v, list) for v in lanes.values()):
            raise ValueError("expected an object of lane name → list of roles")
    except ValueError as err:
        problems.append(Problem(LANES_FILE, "", "", "", f"invalid lane map: {err}", "bad_lanes"))
        return None
    return lanes


def parse(files: dict[str, str], registry: HandlerRegistry) -> ParsedDeployment:
    """Parse and check ``files``; raise :class:`DeploymentError` listing every problem found."""
    problems: list[Problem] = []
    lanes = _lanes(files, problems)
    parser = ClosedLoopParser()
    file_of: dict[str, str] = {}
    elements = 0
    scripted: list[tuple[str, Any, str]] = []
    if not any(is_bpmn(name) for name in files):
        problems.append(
            Problem(
                "",
                "",
                "",
                "",
                "the deployment has no executable process (no .bpmn or .bpmn20.xml file)",
                "no_executable_process",
            )
        )
    for name, text in files.items():
        root = None
        try:
            if is_bpmn(name):
                root, found = check_xml(name, text)
                problems += found
                if root is not None and not found:
                    elements += flow_elements(root)
                    scripted += [(name, owner, local) for owner, local in script_extensions(root)]
                    parser.add_bpmn_xml(root, filename=name)
            elif name.endswith(".dmn"):
                parser.add_dmn_str(text.encode("utf-8"), filename=name)
        except Exception as err:  # lxml and SpiffWorkflow raise many types on malformed input
            problems.append(_schema_problem(_failure(err, name), err, root))
    if problems:
        raise DeploymentError(problems)
    specs: dict[str, Any] = {}
    subprocess_specs: dict[str, dict[str, Any]] = {}
    for process_id in parser.get_process_ids():
        file = parser.get_process_parser(process_id).filename
        try:
            specs[process_id] = run_deep(partial(parser.get_spec, process_id), elements)
            subprocess_specs[process_id] = run_deep(partial(parser.get_subprocess_specs, process_id), elements)
        except Exception as err:
            problems.append(_failure(err, file, process_id, "process"))
        else:
            file_of[process_id] = file
            for name in subprocess_specs[process_id]:
                sub_parser = parser.get_process_parser(name)
                file_of.setdefault(name, sub_parser.filename if sub_parser is not None else file)
    all_specs = [*specs.values(), *(s for subs in subprocess_specs.values() for s in subs.values())]
    problems += check_specs(file_of, all_specs, registry, files, lanes, scripted)
    if problems:
        raise DeploymentError(sorted({str(p): p for p in problems}.values(), key=str))
    return ParsedDeployment(content_hash(files), files, specs, subprocess_specs, lanes or {})


class Deployments:
    """Stores deployments and keeps their parsed specs in memory, keyed by content hash."""

    def __init__(self, registry: HandlerRegistry, clock: Clock) -> None:
        self.registry = registry
        self.clock = clock
        self._parsed: dict[str, ParsedDeployment] = {}
        self._hash_of: dict[int, str] = {}
        self._lock = threading.Lock()

    def deploy(self, session: Session, files: dict[str, str], actor: str = "system") -> Deployment:
        """Store ``files`` as a deployment (or find the identical one) and make it current."""
        parsed = parse(files, self.registry)
        with self._lock:
            self._parsed[parsed.hash] = parsed
        now = self.clock.now()
        row = session.scalar(select(Deployment).where(Deployment.content_hash == parsed.hash))
        current = self.current(session)
        activation = (current.activation + 1) if current is not None else 1
        if row is None:
            row = Deployment(
                content_hash=parsed.hash,
                files=files,
                process_ids=sorted(parsed.specs),
                created_at=now,
                activated_at=now,
                activation=activation,
                created_by=actor,
            )
            session.add(row)
        elif current is not row:
            row.activated_at, row.activation = now, activation
        session.flush()
        return row

    @staticmethod
    def file_of(parsed: ParsedDeployment, process_id: str) -> str:
        """The name of the BPMN file that defines ``process_id``."""
        marker = f'id="{process_id}"'
        return next((name for name, text in parsed.files.items() if is_bpmn(name) and marker in text), "")

    def deploy_if_new(self, session: Session, files: dict[str, str], actor: str = "system") -> Deployment | None:
        """Deploy ``files`` only if this content was never deployed; ``None`` when it was.

        Redeploying known content makes it current again, which is right for an owner choosing it and
        wrong for a restart: it would put the shipped diagrams back over an owner's newer version."""
        if session.scalar(select(Deployment.id).where(Deployment.content_hash == content_hash(files))) is not None:
            return None
        return self.deploy(session, files, actor)

    def current(self, session: Session, process_id: str | None = None) -> Deployment | None:
        rows = session.scalars(select(Deployment).order_by(Deployment.activation.desc(), Deployment.id.desc()))
        for row in rows:
            if process_id is None or process_id in row.process_ids:
                return row
        return None

    def parsed(self, session: Session, deployment_id: int) -> ParsedDeployment:
        """The parsed form of a stored deployment (parsed once per process)."""
        digest = self._hash_of.get(deployment_id)
        if digest is not None and digest in self._parsed:
            return self._parsed[digest]
        row = session.get(Deployment, deployment_id)
        if row is None:
            raise LookupError(f"no deployment {deployment_id}")
        with self._lock:
            if row.content_hash not in self._parsed:
                # Stored deployments were checked when deployed; the registry may have grown since.
                self._parsed[row.content_hash] = parse(row.files, self.registry)
            self._hash_of[deployment_id] = row.content_hash
            return self._parsed[row.content_hash]

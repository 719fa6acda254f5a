"""Verify an audit package offline, with no database: the first problem found, or None.

What is checked, in order: the manifest is one; the signed checkpoints verify with the package's public
key and chain; each journal's rows chain (numbering, links, content hashes) and agree with every row
and head a trusted checkpoint signed (so an edited, deleted, inserted or reordered row is named, even
with every later hash recomputed); every deployment hash a row names has its diagram files in the
package and they hash to it; each file listed hashes to its name, and the files the chained ticket facts
name are listed.  The reader should compare the key id printed with the one they trust.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from engine import checkpoints
from engine.deployments import content_hash

from .layout import CHECKPOINTS, FORMAT, JOURNAL_COLUMNS, MANIFEST, diagram_path, file_path, journal_path

# What the checkpoint checks read (attributes and _asdict()); the instance comes from the manifest.
_Row = namedtuple("_Row", (*JOURNAL_COLUMNS, "instance_id"))
FACTS = "ticket_facts"


@dataclass(frozen=True)
class PackageProblem:
    """What is wrong (a stable code) and where: a ticket, a sequence number, a file or a checkpoint."""

    code: str
    where: str = ""
    detail: str = ""

    def __str__(self) -> str:
        return " ".join(part for part in (self.code, self.where, self.detail) if part)


@dataclass(frozen=True)
class PackageReport:
    problem: PackageProblem | None
    tickets: int
    rows: int
    key_id: str | None


def verify_package(path: Path) -> PackageReport:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as err:
        return PackageReport(PackageProblem("not_a_package", str(path), str(err)), 0, 0, None)
    with archive:
        return _verify(archive)


def _json(archive: zipfile.ZipFile, name: str) -> Any:
    return json.loads(archive.read(name).decode("utf-8"))


def _verify(archive: zipfile.ZipFile) -> PackageReport:
    names = set(archive.namelist())
    try:
        manifest = _json(archive, MANIFEST)
    except (KeyError, ValueError) as err:
        return PackageReport(PackageProblem("not_a_package", MANIFEST, str(err)), 0, 0, None)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return PackageReport(PackageProblem("not_a_package", MANIFEST, f"format {FORMAT} expected"), 0, 0, None)
    tickets = len(manifest.get("instances", []))
    total = 0
    key_id = None
    trusted: list[checkpoints.Signed] = []
    if manifest.get("signed"):
        try:
            export = checkpoints.read_export(archive.read(CHECKPOINTS).decode("utf-8"))
        except (KeyError, ValueError) as err:
            return PackageReport(PackageProblem("checkpoints_unreadable", CHECKPOINTS, str(err)), tickets, 0, None)
        key_id = export.key.key_id
        # The package's checkpoints are both "stored" and "exported": only their own signatures count.
        trusted, found = checkpoints._check_checkpoints(export.checkpoints, None, export)
        if found:
            first = found[0]
            return PackageReport(PackageProblem(first.kind, f"checkpoint {first.checkpoint}"), tickets, 0, key_id)
    covered = checkpoints.fold(trusted)
    facts_files: set[str] = set()
    deployment_hashes: set[str] = set()
    for entry in manifest.get("instances", []):
        instance_id = int(entry["id"])
        where = f"ticket {entry['ticket']}"
        try:
            raw = _json(archive, journal_path(instance_id))
            rows = [_Row(**{**r, "at": datetime.fromisoformat(r["at"]), "instance_id": instance_id}) for r in raw]
        except (KeyError, ValueError, TypeError) as err:
            return PackageReport(PackageProblem("journal_unreadable", where, str(err)), tickets, total, key_id)
        total += len(rows)
        instance = checkpoints._Instance(
            instance_id, entry["ticket"], str(entry["journal_head"]), int(entry["journal_seq"]), str(entry["status"])
        )
        problem, _pending = checkpoints._check_instance(instance, instance_id, rows, covered.get(instance_id))
        if problem is not None:
            detail = f"seq {problem.seq}" + (f" (row id {problem.event_id})" if problem.event_id else "")
            return PackageReport(PackageProblem(problem.kind, where, detail), tickets, total, key_id)
        deployment_hashes.update(r.deployment_hash for r in rows)
        last = next((r for r in reversed(rows) if r.kind == FACTS), None)
        if last is not None:
            facts_files.update(a["sha256"] for a in (last.input or {}).get("facts", {}).get("attachments", []))
    diagrams = manifest.get("diagrams", {})
    for deployment_hash in sorted(deployment_hashes):
        listed = diagrams.get(deployment_hash)
        if not listed:
            return PackageReport(PackageProblem("diagram_missing", deployment_hash), tickets, total, key_id)
        files = {}
        for name in listed:
            member = diagram_path(deployment_hash, name)
            if member not in names:
                return PackageReport(PackageProblem("diagram_missing", member), tickets, total, key_id)
            files[name] = archive.read(member).decode("utf-8")
            if hashlib.sha256(files[name].encode()).hexdigest() != listed[name]:
                return PackageReport(PackageProblem("diagram_changed", member), tickets, total, key_id)
        if content_hash(files) != deployment_hash:
            changed = PackageProblem("diagram_changed", f"deployment {deployment_hash}")
            return PackageReport(changed, tickets, total, key_id)
    listed_files = {f["sha256"] for f in manifest.get("files", [])}
    for item in manifest.get("files", []):
        member = file_path(item["sha256"])
        if item.get("included"):
            if member not in names:
                return PackageReport(PackageProblem("file_missing", member), tickets, total, key_id)
            if hashlib.sha256(archive.read(member)).hexdigest() != item["sha256"]:
                return PackageReport(PackageProblem("file_changed", member), tickets, total, key_id)
    for sha in sorted(facts_files - listed_files):
        return PackageReport(PackageProblem("file_not_listed", sha), tickets, total, key_id)
    return PackageReport(None, tickets, total, key_id)

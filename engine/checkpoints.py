"""Signed checkpoints of the journal: a history that database access alone cannot rewrite.

Why: the hash chain of :mod:`engine.journal` has no secret.  Whoever can write the database can edit a
row, recompute every later hash and move the instance's head, and the chain still verifies.  So now and
then (hourly, by the worker's sweep, and on demand) a checkpoint records every journal's head and is
signed with an Ed25519 key kept outside the database (a file created on first use with mode 0600).  A
rewrite, truncation, insertion or reordering of rows a checkpoint covers no longer matches the signed
record, and the database holds nothing that could sign a new one.

What a checkpoint holds (``JournalCheckpoint.heads``, signed through ``digest``)::

    {"<instance id>": {"seq": S, "hash": "<64 hex>", "rows": [[row id, "<16 hex>"], ...], "closed": bool}, ...}

only for the instances whose journal grew since the previous checkpoint: ``seq``/``hash`` is the new
head, ``rows`` the row id and the first 16 hex digits of the hash of each row after the previous head
(sequence numbers ``S - len(rows) + 1 … S``), ``closed`` whether the instance had completed, after which
it takes no more steps, so a correctly chained step row appended later (even with the head moved) is an
insertion, not a row "not yet checkpointed".  Annotations (``ProcessEngine.annotate``: a decision recorded
on a closed ticket) may still follow; they are "not yet checkpointed" until the next checkpoint.

Why a delta with row fingerprints rather than all heads or one Merkle root: with thousands of instances
checkpointed hourly, repeating every head each hour stores each idle instance again 8,760 times a year,
while a delta stores every row once (~30 bytes), and the checkpoints together then know every covered row,
so :func:`verify` can name the exact row that was edited, inserted, deleted or moved even after the forger
recomputed every later hash (a head or a Merkle root only says "something before here changed"). The full
64-digit head hash is what proves integrity (matching it needs a SHA-256 preimage); the short fingerprints
only locate the damage.

Checkpoints are numbered 1, 2, 3… and each signs the digest of the one before (``previous``), so one
deleted or replaced in the database breaks the sequence; deleting the latest ones is caught against an
auditor's exported copy (:func:`export` / :func:`read_export`).  Taking a checkpoint verifies the new
rows first and leaves a broken journal's head where the last good checkpoint put it, so a forgery is
never signed.

Reads are one consistent snapshot (:func:`snapshot`): REPEATABLE READ on PostgreSQL, one read
transaction on SQLite, so rows committed meanwhile are either entirely visible or not at all and a
verification never reports a break that is not there.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Row, create_engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from .db import Database, table_of
from .journal import DERIVED, GENESIS, TRIGGERS, hash_of
from .models import JournalCheckpoint, JournalEvent, ProcessInstance

log = logging.getLogger(__name__)

FINGERPRINT = 16  # hex digits of a row's hash kept per covered row
EXPORT_FORMAT = "closeloop-journal-checkpoints/1"
_CHUNK = 500  # instance ids per query
STEP_KINDS = frozenset(TRIGGERS + DERIVED)  # rows only a step writes (not annotations)


# -- the key ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckpointKey:
    """The Ed25519 key pair (signing) or just its public half (verifying an export)."""

    public: Ed25519PublicKey
    private: Ed25519PrivateKey | None = None

    @classmethod
    def load_or_create(cls, path: Path) -> CheckpointKey:
        """The key at ``path``, created there (mode 0600, never overwritten) when there is none yet."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            try:  # O_EXCL: two workers starting together keep one key, the loser reads the winner's
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as out:
                    out.write(pem)
        loaded = cls.load(path)
        if loaded is None:
            raise FileNotFoundError(path)
        return loaded

    @classmethod
    def generate(cls) -> CheckpointKey:
        """A key held only in memory (tests, and a forger's key in ``bench.tamper``)."""
        private = Ed25519PrivateKey.generate()
        return cls(public=private.public_key(), private=private)

    @classmethod
    def load(cls, path: Path) -> CheckpointKey | None:
        """The key at ``path``, or None when there is no file (verification then trusts no checkpoint)."""
        if not path.exists():
            return None
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return cls(public=private.public_key(), private=private)

    @classmethod
    def from_public_hex(cls, value: str) -> CheckpointKey:
        return cls(public=Ed25519PublicKey.from_public_bytes(bytes.fromhex(value)))

    @property
    def public_hex(self) -> str:
        return self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()

    @property
    def key_id(self) -> str:
        return hashlib.sha256(bytes.fromhex(self.public_hex)).hexdigest()[:16]

    def sign(self, digest: str) -> str:
        if self.private is None:
            raise ValueError("a public key cannot sign")
        return self.private.sign(digest.encode()).hex()

    def verifies(self, digest: str, signature: str) -> bool:
        try:
            self.public.verify(bytes.fromhex(signature), digest.encode())
        except (InvalidSignature, ValueError):
            return False
        return True


# -- a checkpoint as signed (from the database or from an export) -------------------------------------------
@dataclass(frozen=True)
class Signed:
    number: int
    at: datetime
    previous: str
    heads: dict[str, Any]
    digest: str
    key_id: str
    signature: str

    def body_digest(self) -> str:
        return digest_of(self.number, self.at, self.previous, self.heads)

    def as_json(self) -> dict[str, object]:
        return {
            "number": self.number,
            "at": _iso(self.at),
            "previous": self.previous,
            "heads": self.heads,
            "digest": self.digest,
            "key_id": self.key_id,
            "signature": self.signature,
        }


def digest_of(number: int, at: datetime, previous: str, heads: Mapping[str, object]) -> str:
    body = {"number": number, "at": _iso(at), "previous": previous, "heads": heads}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _signed(row: JournalCheckpoint) -> Signed:
    return Signed(row.number, row.at, row.previous, row.heads, row.digest, row.key_id, row.signature)


# -- findings -----------------------------------------------------------------------------------------------
# Kinds of problem: rows ("rewritten", "truncated", "deleted", "inserted", "appended", "reordered",
# "head_mismatch") and
# checkpoints ("forged_checkpoint", "missing_checkpoint", "altered_checkpoint", "unchained_checkpoint",
# "export_key_differs", "no_key").  "not_checkpointed" is not a problem: rows newer than the last checkpoint.
@dataclass(frozen=True)
class Finding:
    kind: str
    instance_id: int | None = None
    business_key: str | None = None
    seq: int | None = None
    event_id: int | None = None
    # The checkpoint that covered the row (None: the row is not covered, a plain chain break).
    checkpoint: int | None = None
    # "reordered": where the row was; "not_checkpointed": the last uncovered seq; else later rows affected.
    other_seq: int | None = None
    later: int = 0

    def __str__(self) -> str:
        parts = [self.kind]
        if self.instance_id is not None:
            parts.append(f"instance {self.instance_id}" + (f" ({self.business_key})" if self.business_key else ""))
        if self.seq is not None:
            parts.append(f"seq {self.seq}")
        if self.event_id is not None:
            parts.append(f"row id {self.event_id}")
        if self.checkpoint is not None:
            parts.append(f"checkpoint {self.checkpoint}")
        return " · ".join(parts)


@dataclass
class VerifyReport:
    problems: list[Finding] = field(default_factory=list)
    pending: list[Finding] = field(default_factory=list)
    instances: int = 0
    checkpoints: int = 0
    latest: int | None = None
    latest_at: datetime | None = None

    @property
    def intact(self) -> bool:
        return not self.problems


# -- consistent reads ---------------------------------------------------------------------------------------
@contextmanager
def snapshot(db: Database) -> Iterator[Session]:
    """A read-only session over one consistent view of the database, rolled back at the end.

    PostgreSQL: REPEATABLE READ, READ ONLY.  SQLite: the application's connections start every
    transaction with ``BEGIN IMMEDIATE`` (the write lock), so a separate connection opens a deferred
    read transaction instead: in WAL mode it sees one snapshot from its first read and blocks no writer.
    """
    if db.is_sqlite:
        reader = create_engine(db.url, connect_args={"timeout": 30, "check_same_thread": False}, poolclass=NullPool)
        try:
            with Session(reader) as session:
                session.connection().exec_driver_sql("BEGIN DEFERRED")
                try:
                    yield session
                finally:
                    session.rollback()
        finally:
            reader.dispose()
        return
    with db.sessionmaker() as session:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        session.execute(text("SET TRANSACTION READ ONLY"))
        try:
            yield session
        finally:
            session.rollback()


# -- what the checkpoints cover -----------------------------------------------------------------------------
@dataclass
class Covered:
    """What the trusted checkpoints say about one instance's journal."""

    rows: dict[int, tuple[int, str, int]] = field(default_factory=dict)  # seq → (row id, fingerprint, number)
    seq: int = 0
    hash: str = GENESIS
    number: int = 0
    closed: bool = False


def fold(checkpoints: Iterable[Signed]) -> dict[int, Covered]:
    covered: dict[int, Covered] = {}
    for checkpoint in sorted(checkpoints, key=lambda c: c.number):
        for key, head in checkpoint.heads.items():
            entry = covered.setdefault(int(key), Covered())
            first = int(head["seq"]) - len(head["rows"]) + 1
            for offset, (row_id, fingerprint) in enumerate(head["rows"]):
                entry.rows[first + offset] = (int(row_id), str(fingerprint), checkpoint.number)
            entry.seq, entry.hash, entry.number = int(head["seq"]), str(head["hash"]), checkpoint.number
            entry.closed = bool(head.get("closed", False))
    return covered


@dataclass(frozen=True)
class Export:
    """An auditor's copy of the signed checkpoints (:func:`export`), read back by :func:`read_export`."""

    key: CheckpointKey
    checkpoints: list[Signed]


class ExportError(ValueError):
    """The file is not an export of signed checkpoints; ``args[0]`` says what is wrong."""


def _check_checkpoints(
    stored: list[Signed], key: CheckpointKey | None, exported: Export | None
) -> tuple[list[Signed], list[Finding]]:
    """The checkpoints to trust, and what is wrong with the others."""
    problems: list[Finding] = []
    candidates: list[Signed] = []
    if exported is not None:
        if key is not None and key.public_hex != exported.key.public_hex:
            problems.append(Finding("export_key_differs"))
        in_db = {c.number: c for c in stored}
        for checkpoint in exported.checkpoints:
            mine = in_db.get(checkpoint.number)
            if mine is None:
                problems.append(Finding("missing_checkpoint", checkpoint=checkpoint.number))
            elif mine.digest != checkpoint.digest or mine.signature != checkpoint.signature:
                problems.append(Finding("altered_checkpoint", checkpoint=checkpoint.number))
        last = max((c.number for c in exported.checkpoints), default=0)
        candidates = [*exported.checkpoints, *(c for c in stored if c.number > last)]
        key = exported.key
    else:
        candidates = list(stored)
    if key is None:
        if candidates:
            problems.append(Finding("no_key"))
        return [], problems
    trusted: list[Signed] = []
    previous: Signed | None = None
    expected = 1
    for checkpoint in sorted(candidates, key=lambda c: c.number):
        for missing in range(expected, checkpoint.number):
            problems.append(Finding("missing_checkpoint", checkpoint=missing))
        if checkpoint.body_digest() != checkpoint.digest:
            problems.append(Finding("altered_checkpoint", checkpoint=checkpoint.number))
        elif not key.verifies(checkpoint.digest, checkpoint.signature):
            problems.append(Finding("forged_checkpoint", checkpoint=checkpoint.number))
        else:
            if previous is not None and previous.number == checkpoint.number - 1:
                if checkpoint.previous != previous.digest:
                    problems.append(Finding("unchained_checkpoint", checkpoint=checkpoint.number))
            elif checkpoint.number == 1 and checkpoint.previous != GENESIS:
                problems.append(Finding("unchained_checkpoint", checkpoint=checkpoint.number))
            trusted.append(checkpoint)
        previous = checkpoint
        expected = checkpoint.number + 1
    return trusted, problems


# -- one instance's journal against what covers it ----------------------------------------------------------
@dataclass(frozen=True)
class _Instance:
    id: int
    business_key: str | None
    head: str
    head_seq: int
    status: str


def _check_instance(
    instance: _Instance | None, instance_id: int, rows: Sequence[Row[Any]], covered: Covered | None
) -> tuple[Finding | None, Finding | None]:
    """(the first problem, the rows not yet checkpointed) of one instance's journal."""
    key = instance.business_key if instance is not None else None
    by_seq = {row.seq: row for row in rows}
    at_seq = {row.id: row.seq for row in rows}
    covered_seq = 0
    if covered is not None and covered.rows:
        covered_ids = {row_id: seq for seq, (row_id, _, _) in covered.rows.items()}
        seqs = sorted(covered.rows)
        for index, seq in enumerate(seqs):
            row_id, fingerprint, number = covered.rows[seq]
            row = by_seq.get(seq)
            previous = by_seq.get(seq - 1)
            if (
                row is not None
                and row.id == row_id
                and row.hash[:FINGERPRINT] == fingerprint
                and hash_of(row._asdict()) == row.hash
                and row.prev_hash
                == (GENESIS if seq == 1 else (previous.hash if previous is not None else row.prev_hash))
                and (seq != covered.seq or row.hash == covered.hash)
            ):
                continue
            later = len(seqs) - index - 1
            if row is None:
                gone = row_id not in at_seq
                kind = "truncated" if gone and all(s < seq for s in by_seq) else "deleted" if gone else "reordered"
                return Finding(kind, instance_id, key, seq, row_id, number, at_seq.get(row_id), later), None
            if row.id == row_id:
                return Finding("rewritten", instance_id, key, seq, row.id, number, None, later), None
            if row.id not in covered_ids:
                return Finding("inserted", instance_id, key, seq, row.id, number, None, later), None
            if row_id not in at_seq:
                return Finding("deleted", instance_id, key, seq, row_id, number, None, later), None
            return Finding("reordered", instance_id, key, seq, row.id, number, covered_ids[row.id], later), None
        covered_seq = covered.seq
    # The rows no checkpoint covers yet: the plain chain (numbering, links, content).
    previous_hash = by_seq[covered_seq].hash if covered_seq and covered_seq in by_seq else GENESIS
    expected = covered_seq + 1
    tail = [row for row in rows if row.seq > covered_seq]
    stepped = [row for row in tail if row.kind in STEP_KINDS]
    if covered is not None and covered.closed and stepped:  # a completed instance takes no more steps
        first = stepped[0]
        return Finding("appended", instance_id, key, first.seq, first.id, covered.number, None, len(tail) - 1), None
    for index, row in enumerate(tail):
        later = len(tail) - index - 1
        if row.seq != expected:
            kind = "deleted" if row.seq > expected else "inserted"
            return Finding(kind, instance_id, key, row.seq, row.id, None, None, later), None
        if row.prev_hash != previous_hash or hash_of(row._asdict()) != row.hash:
            return Finding("rewritten", instance_id, key, row.seq, row.id, None, None, later), None
        previous_hash = row.hash
        expected += 1
    if instance is None:  # rows of an instance that is gone (a foreign key normally prevents this)
        orphan = tail[0] if tail else None
        return Finding(
            "inserted", instance_id, key, orphan.seq if orphan else None, orphan.id if orphan else None
        ), None
    last_hash = rows[-1].hash if rows else GENESIS
    if instance.head != last_hash:
        after = [row for row in tail if row.seq > instance.head_seq]
        headed = any(row.hash == instance.head for row in rows)
        if headed and after:  # correctly chained rows written after the head the instance records
            return Finding("appended", instance_id, key, after[0].seq, after[0].id, None, None, len(after) - 1), None
        last_seq = rows[-1].seq if rows else 0
        kind = "truncated" if instance.head_seq > last_seq else "head_mismatch"
        return Finding(kind, instance_id, key, instance.head_seq, None), None
    if tail:
        pending = Finding(
            "not_checkpointed", instance_id, key, tail[0].seq, tail[0].id, None, tail[-1].seq, len(tail) - 1
        )
        return None, pending
    return None, None


def _instances(session: Session, ids: Sequence[int] | None) -> dict[int, _Instance]:
    query = select(
        ProcessInstance.id,
        ProcessInstance.business_key,
        ProcessInstance.journal_head,
        ProcessInstance.journal_seq,
        ProcessInstance.status,
    )
    if ids is not None:
        query = query.where(ProcessInstance.id.in_(ids))
    return {
        row.id: _Instance(row.id, row.business_key, row.journal_head, row.journal_seq, row.status)
        for row in session.execute(query)
    }


def _journals(session: Session, ids: Sequence[int] | None) -> Iterator[tuple[int, list[Row[Any]]]]:
    """Each instance's rows in order, as plain Core rows (no ORM objects), streamed instance by instance."""
    chunks: list[Sequence[int] | None] = (
        [None] if ids is None else [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
    )
    events = table_of(JournalEvent)
    for chunk in chunks:
        query = select(events).order_by(events.c.instance_id, events.c.seq, events.c.id)
        if chunk is not None:
            query = query.where(events.c.instance_id.in_(chunk))
        result = session.execute(query.execution_options(yield_per=2000))
        for instance_id, group in groupby(result, key=lambda row: row.instance_id):
            yield instance_id, list(group)


def _stored(session: Session) -> list[Signed]:
    return [_signed(row) for row in session.scalars(select(JournalCheckpoint).order_by(JournalCheckpoint.number))]


# -- verify -------------------------------------------------------------------------------------------------
def verify(
    db: Database,
    key: CheckpointKey | None,
    *,
    instance_ids: Sequence[int] | None = None,
    exported: Export | None = None,
) -> VerifyReport:
    """Every journal (or those of ``instance_ids``) against the latest signed checkpoints, in one snapshot.

    ``key`` verifies the checkpoints stored in the database; with ``exported`` (an auditor's copy) the
    copy's checkpoints are the authority, those of the database must equal them, and later ones must
    carry the copy's key's signature.
    """
    report = VerifyReport()
    with snapshot(db) as session:
        trusted, report.problems = _check_checkpoints(_stored(session), key, exported)
        covered = fold(trusted)
        if trusted:
            latest = max(trusted, key=lambda c: c.number)
            report.checkpoints, report.latest, report.latest_at = len(trusted), latest.number, latest.at
        instances = _instances(session, instance_ids)
        report.instances = len(instances)
        seen: set[int] = set()
        for instance_id, rows in _journals(session, instance_ids):
            seen.add(instance_id)
            _record(report, _check_instance(instances.get(instance_id), instance_id, rows, covered.get(instance_id)))
        wanted = set(instances) | (set(covered) if instance_ids is None else set(covered) & set(instance_ids))
        for instance_id in sorted(wanted - seen):  # no rows at all: fine unless a checkpoint covered some
            _record(report, _check_instance(instances.get(instance_id), instance_id, [], covered.get(instance_id)))
    report.problems.sort(key=lambda f: (f.instance_id or 0, f.seq or 0))
    return report


def _record(report: VerifyReport, outcome: tuple[Finding | None, Finding | None]) -> None:
    problem, pending = outcome
    if problem is not None:
        report.problems.append(problem)
    if pending is not None:
        report.pending.append(pending)


# -- take ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Taken:
    number: int
    instances: int  # instances whose head moved
    rows: int  # rows newly covered
    refused: list[Finding]  # journals left at their last good head because they are broken


def take(db: Database, key: CheckpointKey, at: datetime) -> Taken | None:
    """Sign a checkpoint of every journal's head now; None if another process took the same number first."""
    try:
        with db.session() as session:
            if not db.is_sqlite:  # SQLite's BEGIN IMMEDIATE already gives one view
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            return _take(session, key, at)
    except IntegrityError:
        log.info("another process took this journal checkpoint")
        return None


def _take(session: Session, key: CheckpointKey, at: datetime) -> Taken:
    stored = _stored(session)
    trusted, _ = _check_checkpoints(stored, key, None)
    covered = fold(trusted)
    instances = _instances(session, None)
    grown = sorted(i for i, instance in instances.items() if instance.head_seq > covered.get(i, Covered()).seq)
    heads: dict[str, Any] = {}
    refused: list[Finding] = []
    rows_covered = 0
    for instance_id, rows in _journals(session, grown):
        problem, _ = _check_instance(instances[instance_id], instance_id, rows, covered.get(instance_id))
        if problem is not None:
            refused.append(problem)
            continue
        new = [row for row in rows if row.seq > covered.get(instance_id, Covered()).seq]
        if new:
            heads[str(instance_id)] = {
                "seq": new[-1].seq,
                "hash": new[-1].hash,
                "rows": [[row.id, row.hash[:FINGERPRINT]] for row in new],
                "closed": instances[instance_id].status == "completed",
            }
            rows_covered += len(new)
    last = max(stored, key=lambda c: c.number) if stored else None
    number = last.number + 1 if last is not None else 1
    previous = last.digest if last is not None else GENESIS
    digest = digest_of(number, at, previous, heads)
    session.add(
        JournalCheckpoint(
            number=number,
            at=at,
            previous=previous,
            heads=heads,
            digest=digest,
            key_id=key.key_id,
            signature=key.sign(digest),
        )
    )
    session.flush()
    return Taken(number, len(heads), rows_covered, refused)


def take_if_due(db: Database, key_path: Path, now: datetime, every: timedelta) -> Taken | None:
    """A checkpoint when the latest is older than ``every`` (or there is none); the worker's sweep calls this."""
    with db.session() as session:
        latest = session.scalar(select(func.max(JournalCheckpoint.at)))
    if latest is not None and latest > now - every:
        return None
    return take(db, CheckpointKey.load_or_create(key_path), now)


# -- export -------------------------------------------------------------------------------------------------
def export(db: Database, key: CheckpointKey, at: datetime) -> dict[str, object]:
    """Every signed checkpoint with the public key, as JSON an auditor keeps outside this system."""
    with snapshot(db) as session:
        stored = _stored(session)
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(at),
        "public_key": key.public_hex,
        "key_id": key.key_id,
        "checkpoints": [c.as_json() for c in stored],
    }


def read_export(text_: str) -> Export:
    """An export read back; :class:`ExportError` names what is wrong with a file that is not one."""
    try:
        data = json.loads(text_)
    except ValueError as err:
        raise ExportError(f"not JSON: {err}") from err
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise ExportError(f"not an export of journal checkpoints (format {EXPORT_FORMAT!r} expected)")
    try:
        key = CheckpointKey.from_public_hex(str(data["public_key"]))
    except (KeyError, ValueError) as err:
        raise ExportError("public_key: not an Ed25519 public key in hex") from err
    items = data.get("checkpoints")
    if not isinstance(items, list):
        raise ExportError("checkpoints: a list expected")
    checkpoints = []
    for index, item in enumerate(items):
        try:
            item = cast(dict[str, Any], item)
            at = datetime.fromisoformat(str(item["at"]))
            if at.tzinfo is None:
                raise ValueError("no time zone")
            heads = item["heads"]
            if not isinstance(heads, dict):
                raise ValueError("heads is not an object")
            checkpoints.append(
                Signed(
                    int(item["number"]),
                    at,
                    str(item["previous"]),
                    heads,
                    str(item["digest"]),
                    str(item["key_id"]),
                    str(item["signature"]),
                )
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ExportError(f"checkpoints[{index}]: {err}") from err
    return Export(key, checkpoints)

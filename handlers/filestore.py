"""Content-addressed file store for evidence media, with resumable uploads.

Keys are lowercase SHA-256 hex digests of the content, so storing the same bytes twice yields the same
key and one file. ``FileStore`` is the contract the process layer depends on; ``LocalFileStore`` keeps
objects on a local disk. An S3-compatible store can implement the same contract: ``put`` maps to a
PutObject under ``ab/cd/<key>`` after hashing, ``path_or_url`` to a presigned URL, and the upload session
to a multipart upload (buffering chunks to the 5 MB part minimum) keyed by the client's upload id.

Errors carry a stable ``code`` (and ``params``) the API layer can translate: ``not_found``,
``invalid_key`` (not 64 lowercase hex), ``invalid_upload_id`` (not a canonical UUID), ``upload_not_found``,
``upload_conflict`` (same id begun with other parameters, or a retried chunk whose bytes differ),
``upload_offset_gap`` (params: expected_offset), ``upload_too_large``, ``upload_incomplete`` (params:
received, total), ``upload_hash_mismatch`` (params: expected, actual).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

_KEY_RE = re.compile(r"^[0-9a-f]{64}$")
_COPY_CHUNK = 1 << 20


class FileStoreError(Exception):
    """Base error; ``code`` and ``params`` are stable for translation by the caller."""

    code = "filestore_error"

    def __init__(self, message: str = "", **params: Any) -> None:
        super().__init__(message or self.code)
        self.params = params


class KeyNotFound(FileStoreError, KeyError):
    code = "not_found"


class InvalidKey(FileStoreError, ValueError):
    code = "invalid_key"


class InvalidUploadId(FileStoreError, ValueError):
    code = "invalid_upload_id"


class UploadNotFound(FileStoreError, KeyError):
    code = "upload_not_found"


class UploadConflict(FileStoreError):
    code = "upload_conflict"


class UploadOffsetGap(FileStoreError):
    code = "upload_offset_gap"


class UploadTooLarge(FileStoreError):
    code = "upload_too_large"


class UploadIncomplete(FileStoreError):
    code = "upload_incomplete"


class UploadHashMismatch(FileStoreError):
    code = "upload_hash_mismatch"


@dataclass
class UploadStatus:
    """What a client needs to resume: how many bytes arrived, and the key once finished."""

    upload_id: str
    total_size: int
    received: int
    sha256_expected: str | None = None
    key: str | None = None

    @property
    def finished(self) -> bool:
        return self.key is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"finished": self.finished}


def validate_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise InvalidKey(key=str(key)[:80])
    return key


def validate_upload_id(upload_id: str) -> str:
    """Only canonical UUIDs: they become directory names, so nothing else may reach the filesystem."""
    try:
        canonical = str(uuid.UUID(str(upload_id)))
    except (ValueError, TypeError, AttributeError):
        raise InvalidUploadId(upload_id=str(upload_id)[:80]) from None
    if canonical != upload_id:
        raise InvalidUploadId(upload_id=str(upload_id)[:80])
    return canonical


class FileStore(ABC):
    """Content-addressed blob store. Implementations must make ``put`` and ``finish`` idempotent."""

    @abstractmethod
    def put(self, data: bytes | BinaryIO) -> str:
        """Store bytes (or a readable binary stream) and return their SHA-256 hex key."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """Open the stored object for reading; raises ``KeyNotFound``."""

    @abstractmethod
    def path_or_url(self, key: str) -> str:
        """A local filesystem path or a (presigned) URL a worker or browser can read."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int: ...

    def get(self, key: str) -> bytes:
        with self.open(key) as fh:
            return fh.read()

    @abstractmethod
    def begin_upload(
        self, upload_id: str, total_size: int, sha256_expected: str | None = None
    ) -> UploadStatus:
        """Start (or, with identical parameters, re-attach to) a resumable upload."""

    @abstractmethod
    def append(self, upload_id: str, offset: int, chunk: bytes) -> UploadStatus:
        """Add ``chunk`` at ``offset``; a retried chunk already received is accepted without duplication."""

    @abstractmethod
    def upload_status(self, upload_id: str) -> UploadStatus: ...

    @abstractmethod
    def finish(self, upload_id: str) -> str:
        """Verify size (and hash if given), move the bytes into the store, return the key."""

    @abstractmethod
    def abort(self, upload_id: str) -> None: ...


@dataclass
class LocalFileStore(FileStore):
    """Objects under ``root/objects/ab/cd/<key>``; uploads under ``root/uploads/<upload_id>/``.

    Every object is written to ``root/tmp`` first and renamed into place, so a crash can leave a stray
    temp file but never a partial file under a final name (rename is atomic on one filesystem).
    """

    root: Path
    max_upload_bytes: int | None = None
    fsync: bool = True
    _objects: Path = field(init=False, repr=False)
    _uploads: Path = field(init=False, repr=False)
    _tmp: Path = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self._objects = self.root / "objects"
        self._uploads = self.root / "uploads"
        self._tmp = self.root / "tmp"
        for d in (self._objects, self._uploads, self._tmp):
            d.mkdir(parents=True, exist_ok=True)

    # -- content-addressed objects ------------------------------------------------------------------

    def object_path(self, key: str) -> Path:
        validate_key(key)
        return self._objects / key[:2] / key[2:4] / key

    def put(self, data: bytes | BinaryIO) -> str:
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        tmp = Path(tmp_name)
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, bytes | bytearray | memoryview):
                    digest.update(data)
                    out.write(data)
                else:
                    while block := data.read(_COPY_CHUNK):
                        digest.update(block)
                        out.write(block)
                self._flush(out)
            return self._commit(tmp, digest.hexdigest())
        finally:
            tmp.unlink(missing_ok=True)

    def _commit(self, tmp: Path, key: str) -> str:
        final = self.object_path(key)
        if final.exists():
            return key  # same content already stored: keep one copy
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o444)
        os.replace(tmp, final)
        if self.fsync:
            _fsync_dir(final.parent)
        return key

    def _flush(self, fh: BinaryIO) -> None:
        fh.flush()
        if self.fsync:
            os.fsync(fh.fileno())

    def open(self, key: str) -> BinaryIO:
        try:
            return self.object_path(key).open("rb")
        except FileNotFoundError:
            raise KeyNotFound(key=key) from None

    def path_or_url(self, key: str) -> str:
        path = self.object_path(key)
        if not path.exists():
            raise KeyNotFound(key=key)
        return str(path)

    def exists(self, key: str) -> bool:
        return self.object_path(key).exists()

    def size(self, key: str) -> int:
        try:
            return self.object_path(key).stat().st_size
        except FileNotFoundError:
            raise KeyNotFound(key=key) from None

    def iter_keys(self) -> Iterator[str]:
        for path in self._objects.glob("*/*/*"):
            if _KEY_RE.match(path.name):
                yield path.name

    # -- resumable uploads --------------------------------------------------------------------------

    def _upload_dir(self, upload_id: str) -> Path:
        return self._uploads / validate_upload_id(upload_id)

    @contextmanager
    def _locked(self, upload_id: str) -> Iterator[Path]:
        """Serialise operations on one upload: a flaky client may retry while the first call still runs."""
        d = self._upload_dir(upload_id)
        if not d.is_dir():
            raise UploadNotFound(upload_id=upload_id)
        with (d / "lock").open("a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield d
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _read_meta(self, d: Path) -> dict[str, Any]:
        return json.loads((d / "meta.json").read_text())

    def _write_meta(self, d: Path, meta: dict[str, Any]) -> None:
        tmp = d / "meta.json.tmp"
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, d / "meta.json")

    def _status(self, d: Path, meta: dict[str, Any]) -> UploadStatus:
        part = d / "data.part"
        finished = meta.get("key") is not None
        received = meta["total_size"] if finished else (part.stat().st_size if part.exists() else 0)
        return UploadStatus(
            upload_id=d.name,
            total_size=meta["total_size"],
            received=received,
            sha256_expected=meta.get("sha256_expected"),
            key=meta.get("key"),
        )

    def begin_upload(
        self, upload_id: str, total_size: int, sha256_expected: str | None = None
    ) -> UploadStatus:
        if not isinstance(total_size, int) or total_size < 0:
            raise UploadTooLarge(total_size=total_size)
        if self.max_upload_bytes is not None and total_size > self.max_upload_bytes:
            raise UploadTooLarge(total_size=total_size, max_bytes=self.max_upload_bytes)
        if sha256_expected is not None:
            sha256_expected = validate_key(sha256_expected.lower())
        d = self._upload_dir(upload_id)
        d.mkdir(exist_ok=True)
        with self._locked(upload_id):
            meta_path = d / "meta.json"
            if meta_path.exists():
                meta = self._read_meta(d)
                if meta["total_size"] != total_size or meta.get("sha256_expected") != sha256_expected:
                    raise UploadConflict(upload_id=upload_id)
                return self._status(d, meta)
            meta = {"total_size": total_size, "sha256_expected": sha256_expected, "key": None}
            (d / "data.part").touch()
            self._write_meta(d, meta)
            return self._status(d, meta)

    def upload_status(self, upload_id: str) -> UploadStatus:
        with self._locked(upload_id) as d:
            return self._status(d, self._read_meta(d))

    def append(self, upload_id: str, offset: int, chunk: bytes) -> UploadStatus:
        with self._locked(upload_id) as d:
            meta = self._read_meta(d)
            if meta.get("key"):
                # Already finished: a late retry of any chunk is harmless if it matches what was stored.
                self._verify_overlap(self.object_path(meta["key"]), offset, chunk, upload_id)
                return self._status(d, meta)
            part = d / "data.part"
            received = part.stat().st_size
            end = offset + len(chunk)
            if offset < 0 or end > meta["total_size"]:
                raise UploadTooLarge(offset=offset, size=len(chunk), total_size=meta["total_size"])
            if offset > received:
                raise UploadOffsetGap(expected_offset=received, offset=offset)
            # The overlap with bytes already received must be identical: that is a retry, not new data.
            self._verify_overlap(part, offset, chunk[: max(0, received - offset)], upload_id)
            tail = chunk[received - offset :]
            if tail:
                with part.open("r+b") as fh:
                    fh.seek(received)
                    fh.write(tail)
                    self._flush(fh)
            return self._status(d, meta)

    @staticmethod
    def _verify_overlap(path: Path, offset: int, expected: bytes, upload_id: str) -> None:
        if not expected:
            return
        with path.open("rb") as fh:
            fh.seek(offset)
            if fh.read(len(expected)) != expected:
                raise UploadConflict(upload_id=upload_id, offset=offset)

    def finish(self, upload_id: str) -> str:
        with self._locked(upload_id) as d:
            meta = self._read_meta(d)
            if meta.get("key"):
                return meta["key"]
            part = d / "data.part"
            pending = meta.get("committing_key")
            if pending and not part.exists() and self.exists(pending):
                # A previous finish crashed between the rename and recording the key.
                meta["key"] = pending
                self._write_meta(d, meta)
                return pending
            received = part.stat().st_size
            if received != meta["total_size"]:
                raise UploadIncomplete(received=received, total=meta["total_size"])
            digest = hashlib.sha256()
            with part.open("rb") as fh:
                while block := fh.read(_COPY_CHUNK):
                    digest.update(block)
            key = digest.hexdigest()
            if meta.get("sha256_expected") and meta["sha256_expected"] != key:
                raise UploadHashMismatch(expected=meta["sha256_expected"], actual=key)
            meta["committing_key"] = key
            self._write_meta(d, meta)
            try:
                self._commit(part, key)
            finally:
                part.unlink(missing_ok=True)
            meta["key"] = key
            self._write_meta(d, meta)
            return key

    def abort(self, upload_id: str) -> None:
        with self._locked(upload_id) as d:
            for name in ("data.part", "meta.json"):
                (d / name).unlink(missing_ok=True)
        (d / "lock").unlink(missing_ok=True)
        d.rmdir()


def _fsync_dir(path: Path) -> None:
    """Persist the rename itself; without it a power cut can forget a committed object."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

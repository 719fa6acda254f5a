"""Resumable uploads: a phone on a shaky connection sends a video in chunks and may retry any of them.

An upload is a directory ``root/<upload_id>/`` with the bytes received so far and a small meta file;
``finish`` checks size and hash, then hands the bytes to the content-addressed store
(:class:`handlers.filestore.LocalFileStore`), so an upload ends as an ordinary stored object.  Kept
apart from the store because it has its own state (partial files, locks) and its own errors; an
S3-compatible implementation would map it to a multipart upload keyed by the client's upload id.

Errors carry a stable ``code``: ``invalid_upload_id`` (not a canonical UUID), ``upload_not_found``,
``upload_conflict`` (same id begun with other parameters, or a retried chunk whose bytes differ),
``upload_offset_gap`` (params: expected_offset), ``upload_too_large``, ``upload_incomplete`` (params:
received, total), ``upload_hash_mismatch`` (params: expected, actual).

Nothing refused stays on disk: ``finish`` removes the upload when its hash or the caller's check of the
assembled file refuses it, and :meth:`LocalUploads.remove_idle` removes uploads nobody has touched for a
while (a phone that gave up), so the directory cannot fill up with bytes no ticket will ever use.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .filestore import COPY_CHUNK, FileStoreError, LocalFileStore, validate_key


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

    def to_dict(self) -> dict[str, object]:
        return asdict(self) | {"finished": self.finished}


def validate_upload_id(upload_id: str) -> str:
    """Only canonical UUIDs: they become directory names, so nothing else may reach the filesystem."""
    try:
        canonical = str(uuid.UUID(str(upload_id)))
    except (ValueError, TypeError, AttributeError):
        raise InvalidUploadId(upload_id=str(upload_id)[:80]) from None
    if canonical != upload_id:
        raise InvalidUploadId(upload_id=str(upload_id)[:80])
    return canonical


@dataclass
class LocalUploads:
    """Uploads under ``root/<upload_id>/`` that finish into ``store``."""

    store: LocalFileStore
    root: Path
    max_upload_bytes: int | None = None
    fsync: bool = True

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _flush(self, fh: BinaryIO) -> None:
        fh.flush()
        if self.fsync:
            os.fsync(fh.fileno())

    def _upload_dir(self, upload_id: str) -> Path:
        return self.root / validate_upload_id(upload_id)

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

    def begin_upload(self, upload_id: str, total_size: int, sha256_expected: str | None = None) -> UploadStatus:
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
                self._verify_overlap(self.store.object_path(meta["key"]), offset, chunk, upload_id)
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

    def finish(self, upload_id: str, check: Callable[[Path], None] | None = None) -> str:
        """Move the complete file into the store and return its key.

        ``check`` sees the assembled file before it enters the store; if it raises, or the hash is not
        the one announced, the upload is removed at once (its bytes never reach the store) and the
        error propagates: a refused file leaves nothing behind.
        """
        try:
            return self._finish(upload_id, check)
        except (UploadIncomplete, UploadNotFound, InvalidUploadId):
            raise  # the client may still send the rest: keep what arrived
        except Exception:
            self.remove(upload_id)
            raise

    def _finish(self, upload_id: str, check: Callable[[Path], None] | None) -> str:
        with self._locked(upload_id) as d:
            meta = self._read_meta(d)
            if meta.get("key"):
                return meta["key"]
            part = d / "data.part"
            pending = meta.get("committing_key")
            if pending and not part.exists() and self.store.exists(pending):
                # A previous finish crashed between the rename and recording the key.
                meta["key"] = pending
                self._write_meta(d, meta)
                return pending
            received = part.stat().st_size
            if received != meta["total_size"]:
                raise UploadIncomplete(received=received, total=meta["total_size"])
            digest = hashlib.sha256()
            with part.open("rb") as fh:
                while block := fh.read(COPY_CHUNK):
                    digest.update(block)
            key = digest.hexdigest()
            if meta.get("sha256_expected") and meta["sha256_expected"] != key:
                raise UploadHashMismatch(expected=meta["sha256_expected"], actual=key)
            if check is not None:
                check(part)
            meta["committing_key"] = key
            self._write_meta(d, meta)
            try:
                self.store.adopt(part, key)
            finally:
                part.unlink(missing_ok=True)
            meta["key"] = key
            self._write_meta(d, meta)
            return key

    def abort(self, upload_id: str) -> None:
        with self._locked(upload_id) as d:
            for name in ("data.part", "meta.json", "meta.json.tmp"):
                (d / name).unlink(missing_ok=True)
        (d / "lock").unlink(missing_ok=True)
        d.rmdir()

    def remove(self, upload_id: str) -> bool:
        """Remove an upload and whatever it received; False if there was none."""
        try:
            self.abort(upload_id)
        except (UploadNotFound, FileNotFoundError, OSError):
            return False
        return True

    def exists(self, upload_id: str) -> bool:
        return (self.root / validate_upload_id(upload_id) / "meta.json").exists()

    def received_bytes(self, upload_id: str) -> int:
        """Bytes an unfinished upload holds on disk now (0 once finished or gone)."""
        part = self.root / validate_upload_id(upload_id) / "data.part"
        try:
            return part.stat().st_size
        except FileNotFoundError:
            return 0

    def remove_idle(self, before: float) -> list[str]:
        """Remove every upload whose files were last written before ``before`` (a POSIX timestamp).

        Finished uploads only keep their small meta file (their bytes are in the store); unfinished ones
        are abandoned.  Either way nothing needs them any more.  Returns the removed ids.
        """
        removed = []
        for d in self.root.iterdir():
            try:
                validate_upload_id(d.name)
                last = max(p.stat().st_mtime for p in (d, *d.iterdir()))
            except (InvalidUploadId, OSError, ValueError):
                continue
            if last < before and self.remove(d.name):
                removed.append(d.name)
        return removed

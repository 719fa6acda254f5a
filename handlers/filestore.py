"""Content-addressed file store for evidence media.

Keys are lowercase SHA-256 hex digests of the content, so storing the same bytes twice yields the same
key and one file. ``FileStore`` is the contract the process layer depends on; ``LocalFileStore`` keeps
objects on a local disk. An S3-compatible store can implement the same contract: ``put`` maps to a
PutObject under ``ab/cd/<key>`` after hashing, ``path_or_url`` to a presigned URL. Resumable uploads,
which end by adopting their bytes into the store, live in :mod:`handlers.uploads`.

Errors carry a stable ``code`` (and ``params``) the API layer can translate: ``not_found``,
``invalid_key`` (not 64 lowercase hex).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

_KEY_RE = re.compile(r"^[0-9a-f]{64}$")
COPY_CHUNK = 1 << 20


class FileStoreError(Exception):
    """Base error; ``code`` and ``params`` are stable for translation by the caller."""

    code = "filestore_error"

    def __init__(self, message: str = "", **params: object) -> None:
        super().__init__(message or self.code)
        self.params = params


class KeyNotFound(FileStoreError, KeyError):
    code = "not_found"


class InvalidKey(FileStoreError, ValueError):
    code = "invalid_key"


def validate_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise InvalidKey(key=str(key)[:80])
    return key


class FileStore(ABC):
    """Content-addressed blob store. Implementations must make ``put`` idempotent."""

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


@dataclass
class LocalFileStore(FileStore):
    """Objects under ``root/objects/ab/cd/<key>``.

    Every object is written to ``root/tmp`` first and renamed into place, so a crash can leave a stray
    temp file but never a partial file under a final name (rename is atomic on one filesystem).
    """

    root: Path
    fsync: bool = True
    _objects: Path = field(init=False, repr=False)
    _tmp: Path = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self._objects = self.root / "objects"
        self._tmp = self.root / "tmp"
        for d in (self._objects, self._tmp):
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
                    while block := data.read(COPY_CHUNK):
                        digest.update(block)
                        out.write(block)
                self._flush(out)
            return self._commit(tmp, digest.hexdigest())
        finally:
            tmp.unlink(missing_ok=True)

    def adopt(self, tmp: Path, key: str) -> str:
        """Move a finished file whose SHA-256 is ``key`` into the store (an upload's last step)."""
        return self._commit(tmp, key)

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

    def remove_stale_temporaries(self, before: float) -> int:
        """Remove temp files last written before ``before`` (a POSIX timestamp): a crash between writing
        and renaming leaves one behind, and nothing else will ever read it.  Returns how many."""
        removed = 0
        for path in self._tmp.iterdir():
            try:
                if path.is_file() and path.stat().st_mtime < before:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def iter_keys(self) -> Iterator[str]:
        for path in self._objects.glob("*/*/*"):
            if _KEY_RE.match(path.name):
                yield path.name


def _fsync_dir(path: Path) -> None:
    """Persist the rename itself; without it a power cut can forget a committed object."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""Content-addressed store: idempotent puts, atomic commits."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from handlers.filestore import FileStore, InvalidKey, KeyNotFound, LocalFileStore


@pytest.fixture
def store(tmp_path: Path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "store")


def object_files(store: LocalFileStore) -> list[Path]:
    return [p for p in (store.root / "objects").rglob("*") if p.is_file()]


def test_put_returns_sha256_and_fans_out(store: LocalFileStore) -> None:
    data = b"evidence photo bytes"
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    path = Path(store.path_or_url(key))
    assert path.relative_to(store.root / "objects").parts == (key[:2], key[2:4], key)
    assert store.exists(key) and store.size(key) == len(data)
    with store.open(key) as fh:
        assert fh.read() == data
    assert isinstance(store, FileStore)


def test_put_is_idempotent_and_stores_one_copy(store: LocalFileStore) -> None:
    data = os.urandom(5000)
    first = store.put(data)
    second = store.put(io.BytesIO(data))  # the stream path hashes the same bytes
    assert first == second
    assert len(object_files(store)) == 1
    assert list(store.iter_keys()) == [first]
    assert not any((store.root / "tmp").iterdir())


def test_put_streams_large_input(store: LocalFileStore) -> None:
    data = os.urandom(3 * (1 << 20) + 17)
    key = store.put(io.BytesIO(data))
    assert store.get(key) == data


def test_crash_during_put_leaves_no_file_under_final_name(store: LocalFileStore) -> None:
    class Exploding(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def read(self, n: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise OSError("connection reset")
            return b"x" * (1 << 20)

    with pytest.raises(OSError):
        store.put(Exploding())
    assert object_files(store) == []
    assert not any((store.root / "tmp").iterdir())  # the temp file is cleaned up too


def test_unknown_and_malformed_keys(store: LocalFileStore) -> None:
    missing = "0" * 64
    assert not store.exists(missing)
    with pytest.raises(KeyNotFound):
        store.open(missing)
    with pytest.raises(KeyNotFound):
        store.size(missing)
    for bad in ("../../etc/passwd", "ABC", "g" * 64, "A" * 64):
        with pytest.raises(InvalidKey):
            store.exists(bad)

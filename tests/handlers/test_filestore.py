"""Content-addressed store: idempotent puts, atomic commits, resumable uploads."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from pathlib import Path

import pytest

from handlers.filestore import (
    FileStore,
    InvalidKey,
    InvalidUploadId,
    KeyNotFound,
    LocalFileStore,
    UploadConflict,
    UploadHashMismatch,
    UploadIncomplete,
    UploadNotFound,
    UploadOffsetGap,
    UploadTooLarge,
)


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


def test_resumable_upload_with_retried_chunk_is_not_duplicated(store: LocalFileStore) -> None:
    data = os.urandom(10_000)
    upload_id = str(uuid.uuid4())
    status = store.begin_upload(upload_id, len(data), hashlib.sha256(data).hexdigest())
    assert status.received == 0 and not status.finished
    assert store.append(upload_id, 0, data[:4000]).received == 4000
    # The client never saw the acknowledgement and sends the same chunk again.
    assert store.append(upload_id, 0, data[:4000]).received == 4000
    # A retry overlapping the end of what arrived only adds the missing tail.
    assert store.append(upload_id, 3000, data[3000:7000]).received == 7000
    assert store.upload_status(upload_id).received == 7000
    store.append(upload_id, 7000, data[7000:])
    key = store.finish(upload_id)
    assert store.get(key) == data
    assert store.finish(upload_id) == key  # finishing twice is harmless
    assert store.upload_status(upload_id).finished


def test_upload_refuses_gaps_conflicts_and_overflow(store: LocalFileStore) -> None:
    upload_id = str(uuid.uuid4())
    store.begin_upload(upload_id, 100)
    store.append(upload_id, 0, b"a" * 40)
    with pytest.raises(UploadOffsetGap) as gap:
        store.append(upload_id, 50, b"b" * 10)
    assert gap.value.params["expected_offset"] == 40
    with pytest.raises(UploadConflict):
        store.append(upload_id, 0, b"z" * 40)  # "retry" with different bytes
    with pytest.raises(UploadTooLarge):
        store.append(upload_id, 40, b"c" * 61)
    with pytest.raises(UploadIncomplete) as incomplete:
        store.finish(upload_id)
    assert incomplete.value.params == {"received": 40, "total": 100}
    with pytest.raises(UploadConflict):
        store.begin_upload(upload_id, 200)  # same id, other parameters


def test_upload_hash_mismatch_is_refused(store: LocalFileStore) -> None:
    upload_id = str(uuid.uuid4())
    store.begin_upload(upload_id, 3, hashlib.sha256(b"abc").hexdigest())
    store.append(upload_id, 0, b"abd")
    with pytest.raises(UploadHashMismatch):
        store.finish(upload_id)
    assert object_files(store) == []


def test_retrying_a_whole_upload_creates_no_duplicate(store: LocalFileStore) -> None:
    data = os.urandom(2048)
    upload_id = str(uuid.uuid4())
    for _ in range(2):  # the app restarted and replays the upload from scratch
        store.begin_upload(upload_id, len(data))
        store.append(upload_id, 0, data[:1024])
        store.append(upload_id, 1024, data[1024:])
        key = store.finish(upload_id)
    other = str(uuid.uuid4())  # even under a new id, identical content lands on the same key
    store.begin_upload(other, len(data))
    store.append(other, 0, data)
    assert store.finish(other) == key
    assert len(object_files(store)) == 1


def test_finish_recovers_after_crash_between_rename_and_bookkeeping(store: LocalFileStore) -> None:
    data = b"half-finished"
    upload_id = str(uuid.uuid4())
    store.begin_upload(upload_id, len(data))
    store.append(upload_id, 0, data)
    key = store.finish(upload_id)
    # Simulate the crash window: the object was committed but the upload's meta lost the key.
    meta_path = store.root / "uploads" / upload_id / "meta.json"
    meta = meta_path.read_text().replace(f'"key": "{key}"', '"key": null')
    meta_path.write_text(meta)
    assert store.finish(upload_id) == key


def test_upload_ids_must_be_uuids(store: LocalFileStore) -> None:
    for bad in ("../escape", "not-a-uuid", str(uuid.uuid4()).upper()):
        with pytest.raises(InvalidUploadId):
            store.begin_upload(bad, 1)
    with pytest.raises(UploadNotFound):
        store.append(str(uuid.uuid4()), 0, b"x")


def test_abort_removes_partial_upload(store: LocalFileStore) -> None:
    upload_id = str(uuid.uuid4())
    store.begin_upload(upload_id, 10)
    store.append(upload_id, 0, b"12345")
    store.abort(upload_id)
    with pytest.raises(UploadNotFound):
        store.upload_status(upload_id)


def test_empty_upload_is_allowed(store: LocalFileStore) -> None:
    upload_id = str(uuid.uuid4())
    store.begin_upload(upload_id, 0)
    assert store.finish(upload_id) == hashlib.sha256(b"").hexdigest()


def test_store_size_limit(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path, max_upload_bytes=10)
    with pytest.raises(UploadTooLarge):
        store.begin_upload(str(uuid.uuid4()), 11)

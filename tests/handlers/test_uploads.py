"""Resumable uploads: retried chunks, gaps, conflicts, crashes, and finishing into the store."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest

from handlers.filestore import LocalFileStore
from handlers.uploads import (
    InvalidUploadId,
    LocalUploads,
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


@pytest.fixture
def uploads(store: LocalFileStore, tmp_path: Path) -> LocalUploads:
    return LocalUploads(store, tmp_path / "uploads")


def object_files(store: LocalFileStore) -> list[Path]:
    return [p for p in (store.root / "objects").rglob("*") if p.is_file()]


def test_resumable_upload_with_retried_chunk_is_not_duplicated(store: LocalFileStore, uploads: LocalUploads) -> None:
    data = os.urandom(10_000)
    upload_id = str(uuid.uuid4())
    status = uploads.begin_upload(upload_id, len(data), hashlib.sha256(data).hexdigest())
    assert status.received == 0 and not status.finished
    assert uploads.append(upload_id, 0, data[:4000]).received == 4000
    # The client never saw the acknowledgement and sends the same chunk again.
    assert uploads.append(upload_id, 0, data[:4000]).received == 4000
    # A retry overlapping the end of what arrived only adds the missing tail.
    assert uploads.append(upload_id, 3000, data[3000:7000]).received == 7000
    assert uploads.upload_status(upload_id).received == 7000
    uploads.append(upload_id, 7000, data[7000:])
    key = uploads.finish(upload_id)
    assert store.get(key) == data
    assert uploads.finish(upload_id) == key  # finishing twice is harmless
    assert uploads.upload_status(upload_id).finished


def test_upload_refuses_gaps_conflicts_and_overflow(uploads: LocalUploads) -> None:
    upload_id = str(uuid.uuid4())
    uploads.begin_upload(upload_id, 100)
    uploads.append(upload_id, 0, b"a" * 40)
    with pytest.raises(UploadOffsetGap) as gap:
        uploads.append(upload_id, 50, b"b" * 10)
    assert gap.value.params["expected_offset"] == 40
    with pytest.raises(UploadConflict):
        uploads.append(upload_id, 0, b"z" * 40)  # "retry" with different bytes
    with pytest.raises(UploadTooLarge):
        uploads.append(upload_id, 40, b"c" * 61)
    with pytest.raises(UploadIncomplete) as incomplete:
        uploads.finish(upload_id)
    assert incomplete.value.params == {"received": 40, "total": 100}
    with pytest.raises(UploadConflict):
        uploads.begin_upload(upload_id, 200)  # same id, other parameters


def test_upload_hash_mismatch_is_refused(store: LocalFileStore, uploads: LocalUploads) -> None:
    upload_id = str(uuid.uuid4())
    uploads.begin_upload(upload_id, 3, hashlib.sha256(b"abc").hexdigest())
    uploads.append(upload_id, 0, b"abd")
    with pytest.raises(UploadHashMismatch):
        uploads.finish(upload_id)
    assert object_files(store) == []


def test_retrying_a_whole_upload_creates_no_duplicate(store: LocalFileStore, uploads: LocalUploads) -> None:
    data = os.urandom(2048)
    upload_id = str(uuid.uuid4())
    for _ in range(2):  # the app restarted and replays the upload from scratch
        uploads.begin_upload(upload_id, len(data))
        uploads.append(upload_id, 0, data[:1024])
        uploads.append(upload_id, 1024, data[1024:])
        key = uploads.finish(upload_id)
    other = str(uuid.uuid4())  # even under a new id, identical content lands on the same key
    uploads.begin_upload(other, len(data))
    uploads.append(other, 0, data)
    assert uploads.finish(other) == key
    assert len(object_files(store)) == 1


def test_finish_recovers_after_crash_between_rename_and_bookkeeping(uploads: LocalUploads) -> None:
    data = b"half-finished"
    upload_id = str(uuid.uuid4())
    uploads.begin_upload(upload_id, len(data))
    uploads.append(upload_id, 0, data)
    key = uploads.finish(upload_id)
    # Simulate the crash window: the object was committed but the upload's meta lost the key.
    meta_path = uploads.root / upload_id / "meta.json"
    meta = meta_path.read_text().replace(f'"key": "{key}"', '"key": null')
    meta_path.write_text(meta)
    assert uploads.finish(upload_id) == key


def test_upload_ids_must_be_uuids(uploads: LocalUploads) -> None:
    for bad in ("../escape", "not-a-uuid", str(uuid.uuid4()).upper()):
        with pytest.raises(InvalidUploadId):
            uploads.begin_upload(bad, 1)
    with pytest.raises(UploadNotFound):
        uploads.append(str(uuid.uuid4()), 0, b"x")


def test_abort_removes_partial_upload(uploads: LocalUploads) -> None:
    upload_id = str(uuid.uuid4())
    uploads.begin_upload(upload_id, 10)
    uploads.append(upload_id, 0, b"12345")
    uploads.abort(upload_id)
    with pytest.raises(UploadNotFound):
        uploads.upload_status(upload_id)


def test_empty_upload_is_allowed(uploads: LocalUploads) -> None:
    upload_id = str(uuid.uuid4())
    uploads.begin_upload(upload_id, 0)
    assert uploads.finish(upload_id) == hashlib.sha256(b"").hexdigest()


def test_upload_size_limit(store: LocalFileStore, tmp_path: Path) -> None:
    uploads = LocalUploads(store, tmp_path / "limited", max_upload_bytes=10)
    with pytest.raises(UploadTooLarge):
        uploads.begin_upload(str(uuid.uuid4()), 11)

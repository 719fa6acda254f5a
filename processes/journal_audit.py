"""Signed journal checkpoints for the operator's commands (``closeloop audit checkpoint|checkpoints|verify``).

The engine does the work (:mod:`engine.checkpoints`); this module supplies what only the composition
root knows: where the signing key lives (``Settings.checkpoint_key``, outside the database) and the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine import checkpoints
from engine.checkpoints import CheckpointKey, Export, ExportError, Finding, Taken, VerifyReport, read_export

if TYPE_CHECKING:
    from .platform import Platform

__all__ = [
    "Export",
    "ExportError",
    "Finding",
    "NoCheckpointKey",
    "Taken",
    "VerifyReport",
    "checkpoint_now",
    "export_checkpoints",
    "read_export",
    "verify_journals",
]


class NoCheckpointKey(Exception):
    """No key is configured (``Settings.checkpoint_key``), or its file does not exist yet."""


def checkpoint_now(platform: Platform) -> Taken | None:
    """Sign a checkpoint of every journal's head now (the key is created on first use)."""
    path = platform.settings.checkpoint_key
    if path is None:
        raise NoCheckpointKey()
    return checkpoints.take(platform.db, CheckpointKey.load_or_create(path), platform.engine.clock.now())


def verify_journals(
    platform: Platform, instance_ids: Sequence[int] | None = None, exported: Export | None = None
) -> VerifyReport:
    """Every journal against the signed checkpoints (the database's, or an auditor's ``exported`` copy)."""
    path = platform.settings.checkpoint_key
    key = CheckpointKey.load(path) if path is not None else None
    return checkpoints.verify(platform.db, key, instance_ids=instance_ids, exported=exported)


def export_checkpoints(platform: Platform) -> dict[str, object]:
    path = platform.settings.checkpoint_key
    key = CheckpointKey.load(path) if path is not None else None
    if key is None:
        raise NoCheckpointKey()
    return checkpoints.export(platform.db, key, platform.engine.clock.now())

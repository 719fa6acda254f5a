"""Workflows this process saved last, so the next step of the same instance need not reload them."""

from __future__ import annotations

import threading
from collections import OrderedDict

from .persistence import LoadedWorkflow


class WorkflowCache:
    """By instance and version.  A step takes its entry out (a failed step never puts it back) and the
    commit puts the new version in; any other writer bumps the version in the database, so a stale
    entry is never used.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[int, tuple[int, LoadedWorkflow]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: int, version: int) -> LoadedWorkflow | None:
        with self._lock:
            entry = self._entries.pop(instance_id, None)
        return entry[1] if entry is not None and entry[0] == version else None

    def keep(self, instance_id: int, version: int, loaded: LoadedWorkflow) -> None:
        with self._lock:
            self._entries[instance_id] = (version, loaded)
            self._entries.move_to_end(instance_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

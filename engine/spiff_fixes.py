"""Corrections to SpiffWorkflow 3.2.0 that must hold wherever a workflow runs (runtime, replay, tests, bench).

Imported by :mod:`engine.persistence`, which everything that builds or loads a workflow imports, so they
are in place before any workflow exists.  Each one closes a class of problem, said below.
"""

from __future__ import annotations

import sys
from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskIterator

# -- 1. No nested value is ever shared between two tasks' data ---------------------------------------
# DeepMerge (used to pass data from task to task, to merge form answers and multi-instance results)
# copies lists and dicts shallowly and appends the merged list's own dicts, so a nested value ends up
# in several tasks' data: a form that later merges into it (the second close-out's lamp taps) silently
# rewrote the first close-out's finished tasks in memory, while their stored rows kept the old value
# (replay "DIFFERS", and a cached engine disagreed with a reloaded one).  Copying what is merged in, at
# the outermost call, makes every merge hand over values nobody else holds.
_merge = DeepMerge.merge


def _merge_copies(a: Any, b: Any, path: list[str] | None = None) -> Any:
    return _merge(a, deepcopy(b) if path is None else b, path)


if getattr(DeepMerge.merge, "__name__", "") != "_merge_copies":
    DeepMerge.merge = staticmethod(_merge_copies)  # type: ignore[method-assign]

# -- 2. No look-up stops at depth 1,000 of the task tree -----------------------------------------------
# Every tree walk of 3.2.0 (finding READY tasks in do_engine_steps, is_completed, the end join's check
# for unfinished work, waiting tasks) stops descending at depth 1,000 by default.  A loop through a user
# task adds about three levels per iteration, so near iteration 333 the engine stopped seeing the ready
# tasks (it stalled) or saw no unfinished one (it declared the instance completed).  The walks are
# iterative (a list, no recursion), so an unlimited depth is safe; they cost what the tree holds.
UNLIMITED_DEPTH = sys.maxsize
for _cls in (TaskIterator, BpmnTaskIterator):
    _defaults = list(_cls.__init__.__defaults__ or ())
    # (end_at_spec, max_depth, depth_first, ...): max_depth is the second default.
    if len(_defaults) >= 2 and _defaults[1] == 1000:
        _defaults[1] = UNLIMITED_DEPTH
        _cls.__init__.__defaults__ = tuple(_defaults)

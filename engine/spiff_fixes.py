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
from SpiffWorkflow.util.task import TaskIterator, TaskState
from SpiffWorkflow.workflow import Workflow

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
    DeepMerge.merge = staticmethod(_merge_copies)

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

# -- 3. Tree walks that cannot find anything are not made -------------------------------------------
# With the depth unlimited, every walk costs what the tree holds, and 3.2.0 walks from the root several
# times per task completion (READY tasks in do_engine_steps, WAITING tasks after every completion, and
# is_completed), so a long loop's calls grew with its history (81 ms per iteration at 1,000).  A walk
# only returns tasks whose state matches, so when no task of the workflow (and, for a BPMN walk, of
# its subprocesses) has such a state, the walk is skipped: exact, and a scan of a dict is ~100× cheaper
# than the walk.  When at most one task matches, order cannot matter and the scan returns it.
# is_completed needs no order at all, so it scans instead of walking.
_plain_init = TaskIterator.__init__
_bpmn_init = BpmnTaskIterator.__init__


def _narrow(iterator: Any, task: Any, subprocesses: bool) -> None:
    """Skip the walk when no task can match; return the match from a scan when at most one does.

    One pass over the tasks in the walk's reach with a bit test (cheap), then the full filter only on
    tasks in a matching state.  The scan may stand in for the walk only when order cannot matter (at most
    one match) and the walk would visit every match: it starts at the workflow's root, has no end spec,
    its minimum state is FUTURE or lower (a definite task never hangs under a predicted one), and, for a
    BPMN walk that enters subprocesses, there are none (their visiting rules are subtler: walk then).
    """
    mask = iterator.task_filter.state
    workflows = [task.workflow]
    top = getattr(task.workflow, "top_workflow", task.workflow)
    nested = subprocesses and bool(getattr(top, "subprocesses", None))
    if nested:
        workflows = [top, *top.subprocesses.values()]
    in_state = [t for wf in workflows for t in wf.tasks.values() if t._state & mask]
    if not in_state:
        iterator.task_list = []
        return
    if (
        nested
        or iterator.end_at_spec is not None
        or task is not task.workflow.task_tree
        or iterator.min_state > TaskState.FUTURE
    ):
        return
    matches = iterator.task_filter.matches
    found = [t for t in in_state if matches(t)]
    if len(found) <= 1:
        iterator.task_list = []
        iterator._found = found


def _plain_iterator(self: Any, task: Any, *args: Any, **kwargs: Any) -> None:
    _plain_init(self, task, *args, **kwargs)
    _narrow(self, task, subprocesses=False)


def _bpmn_iterator(self: Any, task: Any, *args: Any, **kwargs: Any) -> None:
    _bpmn_init(self, task, *args, **kwargs)
    _narrow(self, task, subprocesses=not self.skip_subprocesses)


_walk_next = TaskIterator.__next__


def _next_found_first(self: Any) -> Any:
    found = self.__dict__.get("_found")
    if found is None:
        return _walk_next(self)
    if not found:
        raise StopIteration
    return found.pop(0)


def _is_completed(self: Any) -> bool:
    if not self.completed and not any(not t._state & TaskState.FINISHED_MASK for t in self.tasks.values()):
        self.completed = True
    return self.completed


if TaskIterator.__init__.__name__ != "_plain_iterator":
    TaskIterator.__init__ = _plain_iterator
    BpmnTaskIterator.__init__ = _bpmn_iterator
    TaskIterator.__next__ = _next_found_first
    Workflow.is_completed = _is_completed

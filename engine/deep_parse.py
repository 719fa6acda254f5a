"""Run SpiffWorkflow's recursive spec building with room for long diagrams, within fixed bounds.

SpiffWorkflow 3.2.0 builds a process spec by recursing from each element into the element its
outgoing flow leads to (``TaskParser.parse_node`` → ``ProcessParser.parse_node``), about two Python
frames per element: a straight line of ~490 tasks exceeds Python's default recursion limit of 1,000
and the diagram was refused with a bare ``RecursionError``.  A diagram small enough for the current
limit is parsed where it is.  A larger one is parsed in its own thread with a recursion limit sized
to its number of flow elements (the XML pass refuses files above
:data:`engine.validation.MAX_ELEMENTS`, so the limit is bounded too), raised under a lock and put
back afterwards.  Python 3.11 keeps Python-to-Python calls off the C stack: 19,990 tasks in a line
parse with a 4 MiB thread stack; the thread gets 64 MiB of (reserved, mostly untouched) stack.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

FRAMES_PER_ELEMENT = 3
BASE_FRAMES = 300  # the caller's own frames (a web request, a CLI command)
MAX_FRAMES = 100_000
STACK_BYTES = 64 * 1024 * 1024
_LOCK = threading.Lock()


def run_deep(work: Callable[[], T], elements: int) -> T:
    """``work()`` in a thread with a stack and recursion limit for ``elements`` flow elements."""
    limit = min(MAX_FRAMES, BASE_FRAMES + FRAMES_PER_ELEMENT * elements)
    if limit <= sys.getrecursionlimit():
        return work()
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(work())
        except BaseException as err:  # handed to the caller's thread below
            error.append(err)

    with _LOCK:
        previous_stack = threading.stack_size(STACK_BYTES)
        previous_limit = sys.getrecursionlimit()
        try:
            sys.setrecursionlimit(limit)
            thread = threading.Thread(target=target, name="closeloop-deep-parse")
            thread.start()
            thread.join()
        finally:
            sys.setrecursionlimit(previous_limit)
            threading.stack_size(previous_stack)
    if error:
        raise error[0]
    return result[0]

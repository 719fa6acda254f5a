"""Named crash points, so tests can kill a real worker with SIGKILL at an exact place.

A process started with ``CLOSELOOP_CRASH_AT=<point>`` kills itself there, once: the crash-recovery
tests use this to prove that a worker dying inside a handler, between steps or during a commit loses
and duplicates nothing.  Unset (always, outside those tests) it costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

POINTS = ("handler_running", "before_commit", "after_commit", "before_enqueue")


def crash_point(name: str) -> None:
    if os.environ.get("CLOSELOOP_CRASH_AT") == name:
        marker = os.environ.get("CLOSELOOP_CRASH_MARKER")
        if marker:
            if os.path.exists(marker):
                return  # crash once; the restarted worker must get through
            with open(marker, "w") as f:
                f.write(name)
        os.kill(os.getpid(), signal.SIGKILL)

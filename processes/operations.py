"""What the operator's commands (``closeloop deploy``, ``audit``, ``worker``) need of the engine, named here
so that the web layer and the CLI import ``processes`` only and never ``engine`` itself."""

from __future__ import annotations

from engine.jobs import QUEUE_NAME
from engine.journal import verify as verify_journal
from engine.replay import Replayer, ReplayError
from engine.sweeper import sweep
from engine.validation import DeploymentError

__all__ = ["QUEUE_NAME", "DeploymentError", "ReplayError", "Replayer", "sweep", "verify_journal"]

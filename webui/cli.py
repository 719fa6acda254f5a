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

import click
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from sqlalchemy import select

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


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve(host: str, port: int) -> None:
    """Serve the web app only (the worker runs separately)."""
    from werkzeug.serving import run_simple

    from .app import create_app

    run_simple(host, port, create_app(), threaded=True, use_reloader=False)


@main.command()
@click.option("--burst", is_flag=True, help="Run until the queue is empty, then exit.")
@click.option("--sweep-every", default=10.0, help="Seconds between sweeps for lost work.")
def worker(burst: bool, sweep_every: float) -> None:
    """Run an rq worker (with rq's scheduler) and the sweeper that recovers lost jobs."""
    from rq import SimpleWorker

    from engine import jobs, sweeper

    platform = _platform()
    stop = threading.Event()

    def sweep_forever() -> None:
        while not stop.wait(sweep_every):
            try:
                sweeper.sweep(platform.engine)
            except Exception as err:  # a failed sweep must not kill the worker; the next one retries
                click.echo(f"sweep failed: {err}", err=True)

    sweeper.sweep(platform.engine)
    if not burst:
        threading.Thread(target=sweep_forever, name="sweeper", daemon=True).start()
    # SimpleWorker runs jobs in this process: no fork, so database connections are never shared
    # between processes, and killing the worker kills the job with it (the sweeper recovers both).
    rq_worker = SimpleWorker([jobs.QUEUE_NAME], connection=platform.redis)
    try:
        rq_worker.work(burst=burst, with_scheduler=not burst)
    finally:
        stop.set()


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
    worker_process = subprocess.Popen([sys.executable, "-m", "webui.cli", "worker"], env=env, cwd=ROOT)
    click.echo(f"Closeloop on http://{host}:{port}  (worker pid {worker_process.pid}; Ctrl-C stops everything)")

    def shutdown(*_args: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, shutdown)
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

"""``closeloop serve`` (the web app under gunicorn) and ``closeloop run`` (everything, for ``make run``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import click


@click.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--workers", default=2, type=int, show_default=True, help="gunicorn worker processes.")
@click.option("--threads", default=4, type=int, show_default=True, help="Threads per worker process.")
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the web app only, under gunicorn (the worker runs separately); deploys bpmn_models/ if new."""
    from processes.platform import Settings, build_platform

    platform = build_platform(Settings.from_env())
    platform.deploy_shipped_models()
    platform.db.dispose()  # each gunicorn worker builds its own platform: no connection crosses a fork
    _gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "accesslog": "-",
            "timeout": 60,
            "graceful_timeout": 15,
            "control_socket_disable": True,
        }
    ).run()


def _gunicorn(options: dict[str, Any]) -> Any:
    """gunicorn run from our command, with the app built in each worker (after the fork)."""
    from gunicorn.app.base import BaseApplication

    class Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:  # control_socket_disable exists from gunicorn 24 on
                    self.cfg.set(key, value)

        def load(self) -> Any:
            from ..app import create_app

            return create_app()

    return Application()


@click.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--demo/--no-demo", "with_demo", default=True, help="Load demo data into an empty database.")
def run(host: str, port: int, with_demo: bool) -> None:
    """Set up and start everything: migrations, diagrams, demo data, web app and worker."""
    from processes.platform import ROOT, Settings, build_platform, redis_url_of

    from .db import upgrade_database

    settings = Settings.from_env()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade_database(settings.database_url)
    platform = build_platform(settings)
    platform.deploy_shipped_models()
    if with_demo:
        from processes import demo as demo_data

        with platform.db.session() as session:
            if demo_data.load(session, platform.engine.clock.now(), settings.timezone):
                click.echo(f"demo data loaded — log in as agent / {demo_data.DEMO_PASSWORD}")
    env = {**os.environ, "REDIS_URL": redis_url_of(platform.redis), "DATABASE_URL": settings.database_url}
    worker_process = subprocess.Popen(
        [sys.executable, "-m", "webui.cli", "worker"], env=env, cwd=ROOT, preexec_fn=_die_with_parent
    )
    click.echo(f"Closeloop on http://{host}:{port}  (worker pid {worker_process.pid}; Ctrl-C stops everything)")

    def shutdown(*_args: object) -> None:
        raise KeyboardInterrupt

    # Explicit for SIGINT too: a shell that starts us in the background hands us SIGINT ignored.
    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    try:
        from werkzeug.serving import run_simple

        from ..app import create_app

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

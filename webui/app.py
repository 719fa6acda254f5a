"""The Flask application factory: one place that wires the extensions, the blueprints and the handlers."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, redirect, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from processes.accounts.models import User
from processes.platform import ROOT, Platform, Settings, build_platform

from . import context, display, errors, headers, hygiene, i18n, labels
from .admin.blueprint import admin
from .api.blueprint import api
from .audit.blueprint import audit
from .auth.blueprint import auth
from .confirmation.blueprint import confirmation
from .customer.blueprint import customer
from .diagram_import import diagram_import
from .forms_editor import forms_editor
from .heatmap import heatmap
from .history.blueprint import history
from .incidents.blueprint import incidents
from .kpi.blueprint import kpi
from .messages import message
from .outbox.blueprint import outbox
from .overview import overview, reassignment
from .processes_editor import processes_editor
from .rootcauses.blueprint import rootcauses
from .tasks.blueprint import tasks
from .tickets.blueprint import tickets
from .versions import versions

csrf = CSRFProtect()
BLUEPRINTS = (auth, tickets, tasks, customer, api, admin, rootcauses, incidents)


class CloseloopFlask(Flask):
    def handle_user_exception(self, e: Exception) -> Any:
        """Whatever a view or gate raised, the request's writes are undone before any handler answers."""
        context.rollback()
        return super().handle_user_exception(e)


def create_app(
    settings: Settings | None = None, platform: Platform | None = None, config: dict[str, Any] | None = None
) -> Flask:
    app = CloseloopFlask(__name__)
    platform = platform or build_platform(settings or Settings.from_env())
    app.config.update(
        SECRET_KEY=platform.settings.secret_key,
        MAX_CONTENT_LENGTH=platform.settings.max_upload_bytes + 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"),
    )
    app.config.update(config or {})
    app.extensions["closeloop"] = platform
    context.init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    _login(app)
    csrf.exempt(api)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.register_blueprint(outbox)  # issue 11 §1: the admins' outbox
    app.register_blueprint(kpi)
    app.register_blueprint(history)  # issue 14: the admins' history import
    app.register_blueprint(audit)  # issue 13: auditors' replay and access log; auditors write nothing
    app.register_blueprint(heatmap)  # issue 13 part B: the process heat map's numbers and event log
    app.register_blueprint(overview)  # issue 10: the supervisors' "at risk now" overview
    app.register_blueprint(reassignment)  # issue 10: a supervisor moves an accepted ticket
    app.register_blueprint(processes_editor)  # issue 12 §1: the process owner's editor
    app.register_blueprint(diagram_import)  # issue 12 §1: a diagram drawn by another tool, as a draft
    app.register_blueprint(forms_editor)  # issue 12 §1: the form builder
    app.register_blueprint(versions)  # issue 12 §2-3: impact preview, versions and migration
    app.register_blueprint(confirmation)  # issue 11 §2: the confirmation PDF and the customer's signature
    errors.init_app(app)
    headers.init_app(app)
    hygiene.init_app(app)  # first of the before_request functions: bad text never reaches a view

    @app.template_filter("local")
    def _local(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return display.local_time(value, platform.settings.timezone, fmt)

    @app.context_processor
    def _template_globals() -> dict[str, Any]:
        return {
            "is_zh": i18n.is_zh(),
            "lang_code": i18n.lang_code(),
            "task_name": i18n.task_name,
            "message": message,
            "answers": display.answers,
            "words": labels.words(),
        }

    @app.before_request
    def _remember_language_override() -> None:
        g.locale_override = None

    @app.get("/")
    def index() -> Any:
        return redirect(url_for("tasks.inbox") if current_user.is_authenticated else url_for("auth.login"))

    return app


def _login(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = None

    @manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = context.db().get(User, int(user_id))
        return user if user is not None and user.active else None

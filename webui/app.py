"""The Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from processes.accounts.models import User
from processes.platform import ROOT, Platform, Settings, build_platform

from . import display, i18n
from .messages import message

csrf = CSRFProtect()


def create_app(settings: Settings | None = None, platform: Platform | None = None,
               config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
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
    i18n.init_app(app)
    csrf.init_app(app)
    _login(app, platform)

    from .admin.views import admin
    from .api import uploads as _uploads  # noqa: F401  (registers the upload routes on the API blueprint)
    from .api.views import api
    from .auth.views import auth
    from .customer.views import customer
    from .tasks.views import tasks
    from .tickets.views import tickets

    csrf.exempt(api)
    for blueprint in (auth, tickets, tasks, customer, api, admin):
        app.register_blueprint(blueprint)
    from .rootcauses.views import rootcauses

    app.register_blueprint(rootcauses)
    from .incidents.views import incidents

    app.register_blueprint(incidents)
    _errors(app)

    @app.template_filter("local")
    def _local(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return display.local_time(value, platform.settings.timezone, fmt)

    @app.context_processor
    def _template_globals() -> dict[str, Any]:
        return {"is_zh": i18n.is_zh(), "lang_code": i18n.lang_code(), "task_name": i18n.task_name,
                "message": message, "answers": display.answers}

    @app.get("/")
    def index() -> Any:
        return redirect(url_for("tasks.inbox") if current_user.is_authenticated else url_for("auth.login"))

    return app


def _login(app: Flask, platform: Platform) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = None

    @manager.user_loader
    def load_user(user_id: str) -> User | None:
        with platform.db.session() as session:
            user = session.get(User, int(user_id))
            return user if user is not None and user.active else None


def _errors(app: Flask) -> None:
    def wants_json() -> bool:
        return request.path.startswith("/api/")

    def render_error(status: int, code: str, params: dict[str, Any] | None = None) -> Any:
        text = message(code, params)
        if wants_json():
            return {"error": {"code": code, "message": text, "fields": []}}, status
        return render_template("errors/error.html", status=status, text=text), status

    @app.errorhandler(CSRFError)
    def _csrf(_err: CSRFError) -> Any:
        return render_error(400, "csrf")

    @app.errorhandler(404)
    def _not_found(_err: Exception) -> Any:
        return render_error(404, "not_found")

    @app.errorhandler(403)
    def _forbidden(_err: Exception) -> Any:
        return render_error(403, "forbidden")

    @app.errorhandler(413)
    def _too_large(_err: Exception) -> Any:
        return render_error(413, "too_large", {"max_bytes": app.config["MAX_CONTENT_LENGTH"]})

    @app.before_request
    def _remember_language_override() -> None:
        g.locale_override = None

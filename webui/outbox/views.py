"""Outbox pages; the rules are in ``processes.notifications.admin`` and the delivery in ``.delivery``."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from processes.errors import DomainError
from processes.modeling.notification_texts import carried_by
from processes.notifications import admin as service
from processes.notifications.sandbox import TemplateRefused
from processes.notifications.service import CHANNELS
from processes.notifications.templates import LOCALES, TEMPLATES

from ..context import db, platform

CHANNEL_NAMES = {"inapp": _l("In-app"), "sms": _l("SMS"), "wechat": _l("WeChat"), "email": _l("E-mail")}
STATUS_NAMES = {
    "pending": _l("Pending"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    "read": _l("Read"),
}
AUDIENCE_NAMES = {
    "customer": _l("Customer"),
    "agent": _l("Agent"),
    "engineer": _l("Engineer"),
    "supervisor": _l("Supervisor"),
    "process_owner": _l("Process owner"),
    "auditor": _l("Auditor"),
    "admin": _l("Administrator"),
}
LOCALE_NAMES = {"zh_Hans": "简体中文", "en": "English"}
ERRORS = {
    "notification_unknown_template": _l("There is no message kind %(template)s."),
    "notification_unknown_audience": _l("There is no audience %(audience)s."),
    "notification_unknown_channel": _l("Unknown channel: %(channel)s."),
    "notification_unknown_ticket": _l("There is no ticket %(number)s to preview with."),
    "notification_customer_inapp": _l("Customers have no in-app inbox: choose SMS, WeChat or e-mail for them."),
    "notification_not_failed": _l("Only a failed message can be sent again; this one is %(status)s."),
}


def _names() -> dict[str, Any]:
    return {
        "channel_names": CHANNEL_NAMES,
        "status_names": STATUS_NAMES,
        "audience_names": AUDIENCE_NAMES,
        "locale_names": LOCALE_NAMES,
        "configured": platform().delivery.channels.configured,
    }


def _error_text(err: DomainError) -> str:
    message = ERRORS.get(err.code)
    return str(message) % err.params if message is not None else err.code


def _refusal_text(refused: TemplateRefused) -> str:
    part = gettext("Subject") if refused.field == "subject" else gettext("Text")
    return gettext("%(part)s, line %(line)s: %(reason)s", part=part, line=refused.line, reason=_reason(refused))


def _reason(refused: TemplateRefused) -> str:
    return gettext(refused.reason) % refused.params


def index(error: str | None = None, code: int = 200) -> Any:
    status = request.args.get("status") or None
    channel = request.args.get("channel") or None
    items = service.rows(db(), status=status, channel=channel)
    return render_template(
        "outbox/index.html",
        counts=service.counts(db()),
        statuses=service.STATUSES,
        channels=CHANNELS,
        items=items,
        people=service.recipients_named(db(), items),
        status=status,
        channel=channel,
        error=error,
        **_names(),
    ), code


def retry(notification_id: int) -> Any:
    if not platform().delivery.retry(db(), notification_id):
        found = service.status_of(db(), notification_id)
        if found is None:
            abort(404)
        message = ERRORS["notification_not_failed"] % {"status": STATUS_NAMES.get(found, found)}
        return index(str(message), 409)
    return redirect(url_for("outbox.index", status=request.args.get("status") or None), code=303)


def routes() -> Any:
    error, code = None, 200
    if request.method == "POST":
        reset = request.form.get("reset") == "1"
        try:
            service.set_route(
                db(),
                request.form.get("template", ""),
                request.form.get("audience", ""),
                None if reset else request.form.getlist("channels"),
                by=current_user.username,
                now=platform().engine.clock.now(),
            )
        except DomainError as err:
            error, code = _error_text(err), 422
        else:
            return redirect(url_for("outbox.routes"), code=303)
    return render_template(
        "outbox/routes.html",
        table=service.grouped_routes(db()),
        audiences=service.AUDIENCES,
        channels=CHANNELS,
        error=error,
        **_names(),
    ), code


def templates() -> Any:
    wordings = {(name, locale): service.wording(db(), name, locale) for name in TEMPLATES for locale in LOCALES}
    return render_template(
        "outbox/templates.html",
        wordings=wordings,
        names=TEMPLATES,
        locales=LOCALES,
        carried=carried_by(db()),
        **_names(),
    )


def edit_template(name: str, locale: str) -> Any:
    current = service.wording(db(), name, locale)  # 404 for an unknown name or language
    subject, body = current.subject, current.body
    error, code, shown = None, 200, None
    ticket = request.values.get("ticket") or service.latest_ticket(db()) or ""
    if request.method == "POST":
        action = request.form.get("action", "save")
        subject, body = request.form.get("subject", ""), request.form.get("body", "")
        try:
            if action == "reset":
                service.reset_wording(db(), name, locale)
                return redirect(url_for("outbox.edit_template", name=name, locale=locale), code=303)
            if action == "preview":
                shown = service.preview(db(), name, locale, subject, body, ticket, platform().settings.timezone)
            else:
                service.save_wording(
                    db(), name, locale, subject, body, by=current_user.username, now=platform().engine.clock.now()
                )
                return redirect(url_for("outbox.edit_template", name=name, locale=locale, saved=1), code=303)
        except TemplateRefused as refused:
            error, code = _refusal_text(refused), 422
        except DomainError as err:
            error, code = _error_text(err), 422
    return render_template(
        "outbox/edit_template.html",
        wording=current,
        subject=subject,
        body=body,
        ticket=ticket,
        preview=shown,
        error=error,
        saved=request.args.get("saved") == "1",
        carried=carried_by(db()).get(name, []),
        **_names(),
    ), code


def preview(name: str, locale: str) -> Any:
    """The live preview the editor's script asks for as the admin types (JSON)."""
    try:
        subject, body = service.preview(
            db(),
            name,
            locale,
            request.form.get("subject", ""),
            request.form.get("body", ""),
            request.form.get("ticket", ""),
            platform().settings.timezone,
        )
    except TemplateRefused as refused:
        return jsonify(error=_refusal_text(refused), field=refused.field, line=refused.line), 422
    except DomainError as err:
        if err.status == 404:
            abort(404)
        return jsonify(error=_error_text(err), field="ticket"), 422
    return jsonify(subject=subject, body=body)

"""Sentences for the stable codes that the domain, the engine and the evidence intake return.

One table, translated by Flask-Babel, used by both the HTML pages and the JSON API, so a refusal reads
the same in both and in both languages.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from .i18n import is_zh
from .labels import words

MESSAGES: dict[str, Any] = {
    # form fields (engine.forms)
    "required": _l("This field is required."),
    "type": _l("The value has the wrong type (expected %(expected)s)."),
    "choice": _l("Choose one of the listed options."),
    "max_length": _l("At most %(limit)s characters; this has %(actual)s."),
    "min_length": _l("At least %(limit)s characters; this has %(actual)s."),
    "maximum": _l("At most %(limit)s."),
    "minimum": _l("At least %(limit)s."),
    "pattern": _l("The format is not valid."),
    "format": _l("The format is not valid (%(rule)s)."),
    "unknown_field": _l("This field is not part of the form."),
    "unknown_file": _l("This file was not uploaded to this ticket; upload it again."),
    "max_items": _l("At most %(limit)s items."),
    "min_items": _l("At least %(limit)s items."),
    "invalid": _l("The value is not valid."),
    "not_a_number": _l("Enter a number."),
    "not_an_integer": _l("Enter a whole number."),
    "not_a_boolean": _l("Choose yes or no."),
    "duplicate_row": _l("Already listed in row %(first)s; put the whole quantity there."),
    "checklist_reason_required": _l("“%(item)s” is not ticked: tick it when done, or say why it was not done."),
    "checklist_unknown_item": _l("“%(item)s” is not an item of this checklist."),
    "invalid_json": _l("The request body is not valid JSON."),
    "json_too_deep": _l("The request body is nested too deeply to read."),
    # intake and domain
    "invalid_input": _l("Some fields need your attention."),
    "unknown_customer": _l("There is no customer with id %(id)s."),
    "unknown_device": _l("There is no such device (id %(id)s)."),
    "unknown_device_qr": _l("No device has the QR code %(code)s."),
    "unknown_process": _l("%(process)s is not a published ticket process; choose one from the list."),
    "customer_not_found": _l("Choose a customer, or give a contact phone or device QR code we know."),
    "device_not_of_customer": _l("This device does not belong to %(customer)s."),
    "customer_without_site": _l("%(customer)s has no site on record; add one first."),
    "ticket_not_found": _l("There is no ticket %(number)s."),
    "task_not_found": _l("This task does not exist."),
    "task_already_completed": _l("This task was already completed by %(by)s at %(at)s."),
    "task_not_ready": _l("This task cannot be completed now."),
    "wrong_role": _l("Your role may not complete tasks of the %(lane)s lane."),
    "not_your_ticket": _l("This job is offered to another engineer."),
    "not_your_task": _l("This task is not yours to complete."),
    "link_expired": _l("This link has expired. Ask us for a new one."),
    "link_invalid": _l("This link is not valid."),
    "link_revoked": _l("This link was replaced by a newer one."),
    "login_failed": _l("Wrong username or password."),
    "login_required": _l("Please log in."),
    "token_invalid": _l("The API token is missing or not valid."),
    "forbidden": _l("You may not do this."),
    # the problem code corrected on the ticket page (processes.kpi.live.correct_problem_code)
    "problem_code_unknown": _l("“%(value)s” is not a known problem code; choose one from the list."),
    "problem_code_reason_required": _l("Give a short reason for changing the problem code."),
    # access policy and rate limits (processes.access)
    "ticket_not_yours": _l("This ticket is not one of yours."),
    "throttled_login": _l("Too many failed log-ins. Try again in %(minutes)s minutes."),
    "throttled_token": _l("Too many requests with a wrong API token. Try again in %(minutes)s minutes."),
    "throttled_link": _l("Too many invalid links were opened. Try again in %(minutes)s minutes."),
    "not_found": _l("Not found."),
    "too_large": _l("The upload is too large (at most %(max_bytes)s bytes)."),
    "csrf": _l("The form expired. Reload the page and try again."),
    "upload_not_found": _l("This upload does not exist or is not yours."),
    "upload_id_taken": _l("This upload id is already used for another file."),
    "upload_gap": _l("Part of the file is missing: send from byte %(expected_offset)s."),
    "upload_refused": _l("The upload was refused: %(detail)s"),
    # text no field may hold (processes.textguard)
    "invalid_text": _l("“%(name)s” contains characters that are not allowed in text."),
    "text_nul": _l("It contains a NUL byte (\\0), which text may not hold."),
    "text_control": _l("It contains a control character (other than tab or line break)."),
    "text_surrogate": _l("It contains an unpaired UTF-16 surrogate, which is not a character."),
    "text_encoding": _l("It is not valid UTF-8 (a percent-escape like %%FF)."),
    "bad_request": _l("The request could not be read."),
    "method_not_allowed": _l("This address does not accept this kind of request."),
    "http_error": _l("The request was refused (HTTP %(status)s)."),
    "server_error": _l("Something went wrong on our side and nothing was saved. Please try again."),
    "ticket_storage_full": _l(
        "This ticket already holds %(used_mb)s MB of files; %(size_mb)s MB more would exceed its %(max_mb)s MB limit."
    ),
    # admin screens (processes.engineers.admin, processes.dispatch.admin)
    "exclusive_minimum": _l("Must be more than %(limit)s."),
    "unknown_skill": _l("%(tag)s is not in the skill list."),
    "inactive_skill": _l("%(tag)s is switched off in the skill list."),
    "skill_level_range": _l("%(tag)s: skill levels go from %(minimum)s to %(maximum)s."),
    "choose_a_skill": _l("Choose at least one skill."),
    "already_exists": _l("%(value)s already exists."),
    "unknown_group": _l("There is no group %(name)s."),
    "not_a_supervisor": _l("Choose a supervisor's account."),
    "username_taken": _l("The username %(username)s is taken."),
    "username_format": _l("Lower-case letters, digits, dot, dash and underscore; start with a letter."),
    "password_too_short": _l("At least %(limit)s characters."),
    "phone_format": _l("Digits, spaces and dashes, optionally starting with +."),
    "code_format": _l("Lower-case letters, digits and underscore, e.g. cnc_lathe."),
    "no_engineer_profile": _l("Your account has no engineer profile."),
    # root causes and checklists (processes.rootcauses)
    "already_promoted": _l("The suggestion of %(number)s is already on the checklist %(checklist)s."),
    "suggestion_not_found": _l("This ticket has no prevention suggestion to promote (it must be closed)."),
    "choose_a_checklist": _l("Choose a checklist or name a new one."),
    "checklist_either": _l("Choose an existing checklist or name a new one, not both."),
    # incidents (processes.incidents, engine.incidents)
    "incident_not_found": _l("There is no incident %(id)s."),
    "incident_resolved": _l("This incident is already resolved."),
    "skip_gateway": _l(
        "%(element)s is a gateway: it decides where the process goes, so it cannot be skipped. "
        "Fix the data or the diagram (or migrate the instance), then retry."
    ),
    "skip_not_a_task": _l("%(element)s is not a task the engine runs, so it cannot be skipped; retry after a fix."),
    "skip_no_element": _l("This incident names no element to skip (e.g. a step limit was hit); retry after a fix."),
    "skip_loop": _l(
        "The process loops without waiting for anyone; skipping one task would not end the loop. "
        "Fix the diagram, migrate the instance, then retry."
    ),
    "skip_not_reached": _l("The process does not reach %(element)s any more; retry instead."),
    "skip_failed": _l("The process fails before it reaches the task, so nothing was skipped: %(detail)s"),
    # dispatch (handlers.dispatch.reasons)
    "declined_this_ticket": _l("declined or let this ticket's offer expire"),
    "status": _l("status is %(status)s"),
    "missing_skill": _l("lacks %(skills)s"),
    "skill_level_too_low": _l("skill level below %(min_level)s"),
    "no_capacity": _l("fully booked today (%(booked_today)s of %(daily_capacity)s)"),
    "outside_radius": _l("%(distance_km)s km away, outside the %(radius_km)s km service radius"),
    "beyond_max_distance": _l("%(distance_km)s km away, beyond %(max_km)s km even for urgent work"),
    "no_eligible_engineer": _l("nobody is eligible (%(considered)s engineers considered)"),
    "no_skill_identified": _l("no skill could be identified from the device type or the description"),
    "eligible_capacity_used": _l("every eligible engineer's capacity is planned for other tickets"),
    "other_group": _l("not in a group serving this site (looked at only when rules were relaxed)"),
    "factor_distance": _l("distance"),
    "factor_workload": _l("remaining workload"),
    "factor_first_time_fix": _l("first-time-fix rate"),
    "factor_proficiency": _l("skill level"),
    "factor_decline_penalty": _l("past declines"),
    # before/after comparison findings (handlers.evidence)
    "duplicate_identical": _l("The after-repair photo is the same file as the fault photo."),
    "duplicate_reencoded": _l("The after-repair photo is the fault photo re-saved or resized."),
    "photo_reused": _l("A photo was already used on another ticket."),
    "registration_failed": _l("The two photos could not be aligned (%(reason)s); compared as framed."),
    "region_changed": _l("Changed area: %(area_pct)s%% of the picture."),
    "no_visible_change": _l("A new photo, but nothing visibly changed."),
    "scene_mismatch": _l("Most of the picture differs (%(changed_pct)s%%): another machine or place?"),
    "lamp_changed": _l("Lamp %(name)s changed."),
    "lamp_unchanged": _l("Lamp %(name)s is unchanged."),
    "lamp_out_of_view": _l("Lamp %(name)s is out of view in the after-repair photo."),
    "serial_read": _l("Device number read: %(value)s."),
    "serial_changed": _l("The device number differs: %(before)s before, %(after)s after."),
    "serial_unreadable": _l("The device number could not be read (%(which)s)."),
    "serial_mismatch": _l("The device number reads %(read)s; on record: %(expected)s."),
    "meter_reading": _l("Meter %(name)s: %(before)s before, %(after)s after."),
    "meter_unreadable": _l("Meter %(name)s could not be read (%(which)s)."),
    "meter_mismatch": _l("Meter %(name)s reads %(read)s; expected %(expected)s."),
    "text_read": _l("Text was read on the photos."),
    "text_changed": _l("Text on the panel changed."),
    "exif_missing": _l("The %(which)s photo carries no time or place."),
    "after_taken_before_fault_photo": _l("The after-repair photo was taken before the fault photo."),
    "after_taken_before_ticket": _l("A photo was taken before the ticket existed."),
    "gps_far_from_site": _l("The %(which)s photo was taken %(distance_m)s m from the site."),
    # evidence intake (handlers.evidence.errors)
    "media_empty_file": _l("The file is empty."),
    "media_too_large": _l("The file is too large: %(size_bytes)s bytes, at most %(max_bytes)s."),
    "media_not_an_image": _l("This file is not a photo (JPEG, PNG or HEIC)."),
    "media_not_a_video": _l("This file is not a video (MP4 or MOV)."),
    "media_not_an_audio": _l("This file is not an audio recording (MP3, M4A, WAV or OGG)."),
    "media_not_a_png": _l("This signature is not a PNG image."),
    "media_unsupported_type": _l("This kind of file (%(detected)s) is not accepted; send JPEG, PNG or HEIC."),
    "media_type_mismatch": _l("The file claims to be %(declared)s but is %(detected)s."),
    "media_truncated": _l("The file is incomplete (cut off during upload?). Please send it again."),
    "media_corrupt": _l("The file is damaged and cannot be read."),
    "media_too_many_pixels": _l("The picture is too large: %(width)s×%(height)s pixels."),
    "media_image_too_small": _l("The picture is too small (%(width)s×%(height)s) to serve as evidence."),
    "media_video_corrupt": _l("The video is damaged and cannot be read."),
    "media_video_truncated": _l("The video is incomplete: %(readable_s)s s of %(declared_s)s s can be read."),
    "media_unsupported_codec": _l("The video codec %(codec)s is not accepted."),
    "media_video_too_short": _l("The video is %(actual_s)s s; at least %(required_s)s s is required."),
    "media_video_too_long": _l("The video is %(actual_s)s s; at most %(max_s)s s is allowed."),
    "media_video_too_many_pixels": _l("The video frame is too large: %(width)s×%(height)s."),
    # the customer's portal and survey (processes.portal)
    "link_not_found": _l("This page does not exist for your link."),
    "survey_not_yet": _l("The survey opens once you have accepted the repair."),
    "survey_already_answered": _l("You have already answered the survey for this request. Thank you!"),
    "survey_stars": _l("Choose from 1 to 5 stars."),
    # the admin's directory, its CSV import and staff accounts (issue 10, admins)
    "email_format": _l("An e-mail address looks like name@example.com."),
    "own_account_deactivate": _l("You cannot deactivate your own account."),
    "last_admin": _l("This is the last active administrator account; it cannot be deactivated."),
    "csv_refused": _l("Nothing was imported: the file has %(count)s problems, listed below."),
    "csv_empty": _l("The file has no rows to import."),
    "csv_too_large": _l("The file is larger than %(limit)s MB."),
    "csv_encoding": _l('The file is not text in UTF-8 or GB18030; save it from Excel as "CSV UTF-8".'),
    "csv_missing_column": _l("This column is missing; the columns are: %(allowed)s."),
    "csv_unknown_column": _l("This column is not known; the columns are: %(allowed)s."),
    "csv_too_many_rows": _l("At most %(limit)s rows per file."),
    "csv_extra_cells": _l("The row has more cells than the %(expected)s columns of the header."),
    "csv_syntax": _l("The row cannot be read as CSV (%(detail)s)."),
    "csv_same_phone_other_name": _l("Same phone as an earlier row, but that customer is named %(name)s."),
    "csv_unknown_customer": _l("No customer has the phone %(phone)s; import the customers first."),
    "csv_unknown_site": _l("%(customer)s has no site %(site)s; its sites are: %(sites)s."),
    "arrival_far_from_site": _l("The engineer arrived %(distance_m)s m from the site (more than %(limit_m)s m)."),
    # the desk (issue 10, agents: processes.tickets.intake, housekeeping, search)
    "new_caller_exists": _l("This caller may already be on record: use the existing record, or change what you typed."),
    "likely_duplicate": _l("Open tickets like this one were created in the last 24 hours; check them first."),
    "ticket_ended": _l("Ticket %(number)s has already ended; it cannot be changed."),
    "merge_into_itself": _l("A ticket cannot be merged into itself."),
    "merge_into_cancelled": _l("%(number)s is cancelled; merge into the ticket that stays open."),
    "date_format": _l("Enter a date as YYYY-MM-DD."),
    "date_before_from": _l("The end date is before the start date."),
    # versions, migration and the impact preview (issue 12 §2-3: processes.versions, processes.impact)
    "impact_days": _l("Enter a whole number of days from 1 to %(max)s."),
    "impact_dmn": _l("The decision table cannot be read: %(error)s"),
    "impact_xml": _l("%(file)s is not readable XML: %(error)s"),
    "impact_no_files": _l("Choose a draft or upload at least one .dmn or .bpmn file."),
    "impact_no_draft": _l("There is no draft %(id)s of this process."),
    "impact_not_text": _l("%(file)s is not a UTF-8 text file."),
    "impact_too_large": _l("The draft's files are too large (at most 2 MB in all)."),
    "version_unknown": _l("Choose one of this process's versions (%(version)s is not one)."),
    "version_retired": _l("Version v%(number)s is retired: no ticket may move to it."),
    "version_is_current": _l("Version v%(number)s is the current one; deploy another version first."),
    "version_has_running": _l(
        "Version v%(number)s cannot be deleted: %(count)s tickets are running on it. Move them first or retire it."
    ),
    "version_has_history": _l(
        "Version v%(number)s cannot be deleted: %(count)s finished tickets ran on it and their history needs it. "
        "Retire it instead."
    ),
    "version_in_use": _l(
        "Version v%(number)s is still referred to (a ticket's journal or a draft); retire it instead."
    ),
    "instance_unknown": _l("Ticket process %(id)s is not a running ticket of this process on another version."),
    "instances_none": _l("Select at least one ticket that can move, or move all."),
    "version_retired_redeploy": _l("This content is a retired version of %(process)s; it cannot be deployed again."),
    "job_not_found": _l("There is no job %(id)s."),
    "process_not_found": _l("There is no process %(process)s."),
}


def message(code: str, params: dict[str, Any] | None = None) -> str:
    """The sentence for ``code`` in the current language, with its parameters filled in."""
    template = MESSAGES.get(code)
    if template is None:
        return gettext("The request was refused (%(code)s).", code=code)
    values = {k: _display(_worded(k, v)) for k, v in _in_language(params or {}).items()}
    try:
        return str(template) % values if values else str(template).replace("%%", "%")
    except (KeyError, TypeError, ValueError):
        return str(template)


def _in_language(params: dict[str, Any]) -> dict[str, Any]:
    """A parameter given in both languages (``item_en``, ``item_zh``: a checklist item the process wrote)
    is also given as ``item``, in the reader's."""
    zh = has_request_context() and is_zh()
    pairs = {
        k[:-3]: params[k[:-3] + ("_zh" if zh else "_en")]
        for k in params
        if k.endswith("_en") and k[:-3] + "_zh" in params
    }
    return {**pairs, **params}


# parameters that hold stored codes, and how a reader names them (webui.labels.Words)
_CODED_PARAMS = {"skills": "skill", "skill": "skill", "device_type": "device_type", "group": "group"}


def _worded(name: str, value: Any) -> Any:
    kind = _CODED_PARAMS.get(name)
    if kind is None or not has_request_context():
        return value
    name_of = getattr(words(), kind)
    return [name_of(v) for v in value] if isinstance(value, list) else name_of(value)


def _display(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def field_errors(problems: list[Any]) -> dict[str, str]:
    """One text per field, every problem of that field in the user's language (forms re-shown as typed)."""
    errors: dict[str, list[str]] = {}
    for problem in problems:
        text = message(problem.code, problem.params)
        if text not in errors.setdefault(problem.field, []):
            errors[problem.field].append(text)
    return {name: " ".join(texts) for name, texts in errors.items()}

"""Sentences for the stable codes that the domain, the engine and the evidence intake return.

One table, translated by Flask-Babel, used by both the HTML pages and the JSON API, so a refusal reads
the same in both and in both languages.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

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
    "max_items": _l("At most %(limit)s items."),
    "min_items": _l("At least %(limit)s items."),
    "invalid": _l("The value is not valid."),
    "not_a_number": _l("Enter a number."),
    "not_an_integer": _l("Enter a whole number."),
    "not_a_boolean": _l("Choose yes or no."),
    "invalid_json": _l("The request body is not valid JSON."),
    # intake and domain
    "invalid_input": _l("Some fields need your attention."),
    "unknown_customer": _l("There is no customer with id %(id)s."),
    "unknown_device": _l("There is no such device (id %(id)s)."),
    "unknown_device_qr": _l("No device has the QR code %(code)s."),
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
    "not_found": _l("Not found."),
    "too_large": _l("The upload is too large (at most %(max_bytes)s bytes)."),
    "csrf": _l("The form expired. Reload the page and try again."),
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
    "factor_distance": _l("distance"),
    "factor_workload": _l("remaining workload"),
    "factor_first_time_fix": _l("first-time-fix rate"),
    "factor_proficiency": _l("skill level"),
    "factor_decline_penalty": _l("past declines"),
    # evidence intake (handlers.evidence.errors)
    "media_empty_file": _l("The file is empty."),
    "media_too_large": _l("The file is too large: %(size_bytes)s bytes, at most %(max_bytes)s."),
    "media_not_an_image": _l("This file is not a photo (JPEG, PNG or HEIC)."),
    "media_not_a_video": _l("This file is not a video (MP4 or MOV)."),
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
}


def message(code: str, params: dict[str, Any] | None = None) -> str:
    """The sentence for ``code`` in the current language, with its parameters filled in."""
    template = MESSAGES.get(code)
    if template is None:
        return gettext("The request was refused (%(code)s).", code=code)
    values = {k: _display(v) for k, v in (params or {}).items()}
    try:
        return str(template) % values if values else str(template).replace("%%", "%")
    except (KeyError, TypeError, ValueError):
        return str(template)


def _display(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value

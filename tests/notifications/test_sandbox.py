"""Admins' wordings: what the sandbox refuses before saving, and the bounds it keeps when rendering."""

from __future__ import annotations

import pytest

from processes.notifications import sandbox
from processes.notifications.templates import render, variables


def test_output_is_cut_at_the_limit() -> None:
    assert sandbox.render("{{ problem }}{{ problem }}", {"problem": "x" * 5000}, 100) == "x" * 100


def test_the_sandbox_keeps_internals_out_even_if_a_template_skipped_the_check() -> None:
    with pytest.raises(Exception, match="unsafe"):
        sandbox.render("{{ ticket.__class__.__mro__ }}", {"ticket": "T-1"}, 100)


def test_a_wording_that_fails_on_real_params_falls_back_to_the_built_in_text() -> None:
    # A wording saved when the message knew "gone" (StrictUndefined refuses it now), and a missing "due" (left
    # empty for the template's conditionals, so it does not fail).
    params = {"ticket": "T-1", "customer": "C", "device": "D", "problem": "P", "urgency": "red"}
    subject, body = render("job_offered", params, "en", ("{{ ticket }} by {{ gone }}", "{{ customer }}"))
    assert (subject, body) == ("New job for you: T-1", "C, D: P. Please accept or decline.")
    assert render("job_offered", params, "en", ("{{ ticket }}{% if due %} by {{ due }}{% endif %}", "x")) == (
        "T-1",
        "x",
    )


def test_declared_variables_follow_the_built_in_text() -> None:
    assert {"ticket", "customer", "device", "problem"} <= variables("job_offered")
    assert variables("incident_waiting") == {"ticket", "element", "attempts", "error"}
    with pytest.raises(sandbox.TemplateRefused) as refused:
        sandbox.check("ok\n\n{{ customer }}", variables("incident_waiting"), "body")
    assert refused.value.line == 3 and "customer" in str(refused.value)


def test_provider_parameters_follow_the_plants_template_settings() -> None:
    from processes.notifications.delivery import provider_params

    values = {"ticket": "T-1", "engineer": "王工", "due": "09:00", "subject": "S", "body": "B"}
    assert provider_params("449739", values, ("subject", "body")) == (
        "449739",
        {"ticket": "T-1", "engineer": "王工", "due": "09:00"},
    )
    template_id, params = provider_params("449739:engineer,ticket", values, ())
    assert template_id == "449739" and list(params.items()) == [("engineer", "王工"), ("ticket", "T-1")]
    assert provider_params("TPL:thing1=ticket,time2=due,first=subject", values, ())[1] == {
        "thing1": "T-1",
        "time2": "09:00",
        "first": "S",
    }


def test_every_built_in_wording_passes_the_editors_checks_in_both_languages() -> None:
    """An admin who opens a message and saves it unchanged is not refused: the built-in texts use only what the
    sandbox allows (variables, ``if``/``else``)."""
    from processes.notifications.admin import check_wording
    from processes.notifications.templates import LOCALES, TEMPLATES, builtin

    for template in TEMPLATES:
        for locale in LOCALES:
            check_wording(template, *builtin(template, locale))

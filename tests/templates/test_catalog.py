"""The shipped templates pass the engine's deploy validation and do not clash with the lifecycle."""

from __future__ import annotations

import pytest

from engine.deployments import parse
from processes.platform import Platform
from processes.templates.catalog import template_files, templates


def test_plant_lifecycle_template_is_listed_with_both_languages() -> None:
    listed = {t.key: t for t in templates()}
    assert "plant_lifecycle" in listed
    assert listed["plant_lifecycle"].process_id == "plant_lifecycle_copy"
    assert listed["plant_lifecycle"].name["zh"] and listed["plant_lifecycle"].name["en"]


@pytest.mark.parametrize("key", [t.key for t in templates()])
def test_every_template_passes_deploy_validation(platform: Platform, key: str) -> None:
    files = template_files(key)
    parsed = parse(files, platform.engine.registry)
    process_id = next(t.process_id for t in templates() if t.key == key)
    # Besides its ticket process a template may ship a schedule (equipment maintenance's cycle timer).
    assert process_id in parsed.specs and set(parsed.specs) - {process_id} <= {"preventive_schedule"}
    assert "manifest.json" not in files


def test_unknown_template_is_refused() -> None:
    with pytest.raises(LookupError):
        template_files("no_such_template")

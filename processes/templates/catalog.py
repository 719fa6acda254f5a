"""Read the shipped process templates: their manifests and their deployable files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engine.deployments import read_models

TEMPLATES_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Template:
    """One template as its manifest describes it; ``process_id`` is the id the copy deploys under."""

    key: str
    process_id: str
    name: dict[str, str]
    description: dict[str, str]


def templates(directory: Path = TEMPLATES_DIR) -> list[Template]:
    """Every template folder with a manifest, in name order."""
    found = []
    for manifest in sorted(directory.glob("*/manifest.json")):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        found.append(Template(manifest.parent.name, data["process_id"], data["name"], data["description"]))
    return found


def template_files(key: str, directory: Path = TEMPLATES_DIR) -> dict[str, str]:
    """The deployable files of one template (diagram, DMN, forms, lanes), without its manifest."""
    folder = directory / key
    if not (folder / "manifest.json").is_file():
        raise LookupError(f"no template {key!r}")
    return {name: text for name, text in read_models(folder).items() if name != "manifest.json"}

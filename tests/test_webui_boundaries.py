"""The web layer talks to ``processes`` only, and registers its routes in one place per area.

Part of the import contract of issue 9: nothing under ``webui/`` imports ``engine`` or ``SpiffWorkflow``
(the pages and the CLI reach the engine through ``processes``), and no module registers routes on a
blueprint defined elsewhere by being imported for its side effect (each ``<area>/blueprint.py`` does).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

WEBUI = Path(__file__).resolve().parent.parent / "webui"
FORBIDDEN = ("engine", "SpiffWorkflow")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_webui_imports_nothing_of_the_engine() -> None:
    offenders = [
        f"{path.relative_to(WEBUI.parent)}: {name}"
        for path in sorted(WEBUI.rglob("*.py"))
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN
    ]
    assert offenders == []


def test_routes_are_registered_only_in_blueprint_modules() -> None:
    """``@bp.get`` / ``bp.add_url_rule`` appear only in ``<area>/blueprint.py`` (and the app's own ``/``)."""
    offenders = []
    for path in sorted(WEBUI.rglob("*.py")):
        if path.name == "blueprint.py" or path.name == "app.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("route", "get", "post", "put", "add_url_rule")
                and isinstance(node.value, ast.Name)
                and node.value.id in ("admin", "api", "auth", "customer", "incidents", "rootcauses", "tasks", "tickets")
            ):
                offenders.append(f"{path.relative_to(WEBUI.parent)}:{node.lineno}")
    assert offenders == []


def test_closeloop_help_imports_no_heavy_module() -> None:
    probe = (
        "import sys; from click.testing import CliRunner; from webui.cli import main; "
        "result = CliRunner().invoke(main, ['--help']); assert result.exit_code == 0, result.output; "
        "print(sorted(m for m in ('av', 'cv2', 'rapidocr_onnxruntime', 'SpiffWorkflow', 'flask', 'sqlalchemy') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=WEBUI.parent
    ).stdout
    assert out.strip() == "[]"

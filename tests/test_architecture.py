"""The import contract and the type check of issue 9, run by ``make test`` (and so by CI).

Layers, each importing only the ones to its right::

    webui  →  processes  →  engine, handlers

Rules (every ``import`` / ``from … import`` of every module, at any depth, relative ones resolved):

1. ``engine/`` imports nothing of ours: no ``processes``, ``webui``, ``handlers``, ``bench``.
2. ``handlers/`` are pure functions over plain data: no ``engine``, ``processes``, ``webui``, ``bench``,
   no Flask, no SQLAlchemy.  (``processes/`` adapts them to the engine's handler registry.)
3. ``processes/`` imports no ``webui`` (nor ``bench``) and no Flask.
4. ``webui/`` imports ``processes`` only of ours: no ``engine``, ``handlers``, ``bench``.
5. Nothing outside ``engine/`` imports ``SpiffWorkflow``, except ``bench/`` — its naive baseline engine
   (``bench/naive.py``) and the serializer measurements (``bench/engine.py``) compare against raw
   SpiffWorkflow on purpose — and ``tests/engine/`` (white-box tests of the engine).

The type check of ``engine/`` and ``handlers/`` is in ``test_typing.py``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("engine", "handlers", "processes", "webui", "bench")

# package → top-level modules it must not import
FORBIDDEN: dict[str, frozenset[str]] = {
    "engine": frozenset({"processes", "webui", "handlers", "bench", "flask"}),
    "handlers": frozenset({"engine", "processes", "webui", "bench", "flask", "sqlalchemy", "SpiffWorkflow"}),
    "processes": frozenset({"webui", "bench", "flask", "SpiffWorkflow"}),
    "webui": frozenset({"engine", "handlers", "bench", "SpiffWorkflow"}),
}
# Outside the four layers, only SpiffWorkflow is restricted.
SPIFF_ALLOWED = ("engine/", "bench/", "tests/engine/")
SKIPPED = ("node_modules/", "migrations/", "var/", "test-artifacts/", "closeloop.egg-info/")


def imports_of(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``; relative imports are resolved."""
    package = list(path.relative_to(root).with_suffix("").parts)[:-1]  # the module's package
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                parent = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                base = ".".join([*parent, *([node.module] if node.module else [])])
            if node.module is None and node.level:
                for alias in node.names:  # ``from . import x``
                    yield node.lineno, f"{base}.{alias.name}" if base else alias.name
            else:
                yield node.lineno, base


def violations(root: Path) -> list[str]:
    """Every import that breaks the contract under ``root`` (a checkout of this repository)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(SKIPPED) or "/." in f"/{relative}":
            continue
        layer = relative.split("/")[0]
        for line, module in imports_of(path, root):
            top = module.split(".")[0]
            if layer in FORBIDDEN and top in FORBIDDEN[layer]:
                found.append(f"{relative}:{line}: {layer} imports {module}")
            elif top == "SpiffWorkflow" and layer not in FORBIDDEN and not relative.startswith(SPIFF_ALLOWED):
                found.append(f"{relative}:{line}: imports {module} outside engine/")
    return found


# -- the contract holds --------------------------------------------------------------------------------
def test_the_import_contract_holds() -> None:
    assert violations(ROOT) == []


# -- the checker itself fails on a violation --------------------------------------------------------------
def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_checker_names_each_kind_of_violation(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "engine/__init__.py": "",
            "engine/bad.py": "from processes.tickets import lifecycle\n",
            "engine/sub/__init__.py": "",
            "engine/sub/rel.py": "def f():\n    from ...handlers import geo\n",
            "handlers/__init__.py": "",
            "handlers/pure.py": "import sqlalchemy\nfrom engine.handlers import HandlerContext\nfrom flask import g\n",
            "processes/__init__.py": "",
            "processes/leak.py": "from SpiffWorkflow.util.task import TaskState\nfrom webui.app import create_app\n",
            "webui/__init__.py": "",
            "webui/page.py": "from engine import runtime\nimport handlers.geo\nfrom processes import platform\n",
            "tests/test_x.py": "import SpiffWorkflow\n",
            "tests/engine/test_ok.py": "import SpiffWorkflow\n",
            "bench/naive.py": "from SpiffWorkflow.bpmn.workflow import BpmnWorkflow\n",
        },
    )
    assert violations(root) == [
        "engine/bad.py:1: engine imports processes.tickets",
        "engine/sub/rel.py:2: engine imports handlers",
        "handlers/pure.py:1: handlers imports sqlalchemy",
        "handlers/pure.py:2: handlers imports engine.handlers",
        "handlers/pure.py:3: handlers imports flask",
        "processes/leak.py:1: processes imports SpiffWorkflow.util.task",
        "processes/leak.py:2: processes imports webui.app",
        "tests/test_x.py:1: imports SpiffWorkflow outside engine/",
        "webui/page.py:1: webui imports engine",
        "webui/page.py:2: webui imports handlers.geo",
    ]

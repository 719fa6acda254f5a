"""The type check of issue 9 §2, run by ``make test`` (and so by CI).

mypy checks ``engine/`` and ``handlers/`` (configuration in pyproject.toml: every function annotated)
with no errors, and no public function or method there has ``Any`` in its signature: task data is
``dict[str, object]`` (``engine.api.JSONData``), SpiffWorkflow objects are typed with their classes.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TYPED = ("engine", "handlers")


def public_any(root: Path) -> list[str]:
    """Public functions and methods of ``engine/`` and ``handlers/`` whose signature mentions ``Any``."""
    found = []
    for package in TYPED:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            found += _public_any(tree.body, path.relative_to(root).as_posix(), "")
    return found


def _public_any(body: list[ast.stmt], where: str, prefix: str) -> list[str]:
    found = []
    for node in body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            found += _public_any(node.body, where, f"{prefix}{node.name}.")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name.startswith("_") and not (node.name.startswith("__") and node.name.endswith("__")):
                continue
            annotations = [
                a.annotation
                for a in (
                    *node.args.posonlyargs,
                    *node.args.args,
                    *node.args.kwonlyargs,
                    node.args.vararg,
                    node.args.kwarg,
                )
                if a is not None
            ]
            annotations.append(node.returns)
            if any(n is not None and "Any" in _names(n) for n in annotations):
                found.append(f"{where}:{node.lineno}: {prefix}{node.name}")
    return found


def _names(annotation: ast.expr) -> set[str]:
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return set()
    return {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(annotation) if isinstance(n, ast.Attribute)
    }


def test_no_public_signature_in_engine_or_handlers_mentions_any() -> None:
    assert public_any(ROOT) == []


def test_mypy_finds_no_error_in_engine_and_handlers() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", os.devnull],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_checker_finds_any_in_public_signatures_only(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "engine/a.py": (
                "from typing import Any\n"
                "def public(x: dict[str, Any]) -> None: ...\n"
                "def _private(x: Any) -> Any: ...\n"
                "class Thing:\n    def method(self) -> 'list[Any]': ...\n"
                "    def _helper(self, x: Any) -> None: ...\n"
                "def fine(x: dict[str, object]) -> int: ...\n"
            ),
            "handlers/b.py": "import typing\ndef g(**kw: typing.Any) -> None: ...\n",
        },
    )
    assert public_any(root) == ["engine/a.py:2: public", "engine/a.py:5: Thing.method", "handlers/b.py:2: g"]

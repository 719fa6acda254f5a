"""The diagram expression sandbox: what process owners may write, and what can never run."""

from __future__ import annotations

import pytest

from engine.expressions import ExpressionError, check_script, evaluate, execute_assignments


@pytest.mark.parametrize(("text", "names", "expected"), [
    ('urgency in ("red", "orange")', {"urgency": "red"}, True),
    ('offer["engineer_id"] is not None', {"offer": {"engineer_id": 3}}, True),
    ("offer.engineer_id", {"offer": {"engineer_id": 3}}, 3),
    ("rework_count + 1", {"rework_count": 2}, 3),
    ("1 < x <= 5", {"x": 5}, True),
    ("'a' if flag else 'b'", {"flag": False}, "b"),
    ("len(items) * 2", {"items": [1, 2, 3]}, 6),
    ("max(scores) - min(scores)", {"scores": [4, 9, 1]}, 8),
    ("items[1:]", {"items": [1, 2, 3]}, [2, 3]),
    ('add_duration("2026-11-25T08:00:00+08:00", "PT30M")', {}, "2026-11-25T00:30:00+00:00"),
    ("upper(code)", {"code": "alm"}, "ALM"),
])
def test_allowed_expressions(text: str, names: dict, expected: object) -> None:
    assert evaluate(text, names) == expected


@pytest.mark.parametrize("text", [
    "().__class__.__base__.__subclasses__()",
    "uuid.os.getpid()",
    "__import__('os').system('id')",
    "open('/etc/passwd').read()",
    "[c for c in ().__class__.__mro__]",
    "(lambda: 1)()",
    "x.__dict__",
    "getattr(x, 'y')",
    "eval('1')",
    "'a' * 10**9",
    "[0] * 10**8",
    "2 ** 10**6",
    "_private",
    "f'{x}'",
    "x := 1",
    "{**x}",
    "a.lower()",
    "1 is 1",
])
def test_escapes_and_resource_bombs_are_refused(text: str) -> None:
    with pytest.raises(ExpressionError) as err:
        evaluate(text, {"x": {"y": 1}, "uuid": {"os": {}}, "a": "s"})
    assert err.value.code in {"not_allowed", "private_name", "unknown_function", "too_large", "unknown_name",
                              "unknown_field", "syntax", "too_many_steps"}


def test_deep_or_long_expressions_fail_cleanly() -> None:
    with pytest.raises(ExpressionError):
        evaluate("+".join(["1"] * 5000), {})
    with pytest.raises(ExpressionError):
        evaluate("x" * 20_000, {})


def test_unknown_names_are_reported_by_name() -> None:
    with pytest.raises(ExpressionError) as err:
        evaluate("P7D", {})
    assert err.value.code == "unknown_name" and err.value.params == {"name": "P7D"}


def test_scripts_may_only_assign() -> None:
    data = {"rework_count": 1, "tags": {}}
    execute_assignments('rework_count = rework_count + 1\ntags["hot"] = True\nrework_count += 1', data)
    assert data == {"rework_count": 3, "tags": {"hot": True}}
    for script in ("import os", "def f():\n    pass", "for i in x:\n    y = i", "x.y = 1", "print('hi')",
                   "while True:\n    pass", "__x = 1"):
        with pytest.raises(ExpressionError):
            check_script(script)

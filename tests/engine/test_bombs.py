"""Issue 8 §2: every bomb and escape in ``bench.bombs.BOMBS`` is refused within 1 s CPU and 64 MB.

The design target is 100 ms and 64 MB per evaluation, enforced by sizes checked before allocation
(``engine.bounds``); the test asserts the issue's 1 s so that a loaded CI machine does not flake,
measures with ``time.process_time`` (CPU, not wall clock) and ``tracemalloc`` (peak over the try),
and checks after each bomb that the evaluator and a normal deployment still work.
"""

from __future__ import annotations

import ast
import random
import re
import time
import tracemalloc

import pytest

from bench.bombs import BOMBS, Bomb, try_bomb, warm_up
from engine import expressions as _expressions
from engine.expressions import FUNCTIONS, ExpressionError, evaluate
from engine.handlers import HandlerRegistry

CPU_LIMIT_MS = 1_000
MEMORY_LIMIT = 64 * 1024 * 1024
FROM_THE_ISSUE = {
    "sum-nested-list",
    "str-nested-list",
    "max-nested-list",
    "percent-width",
    "add-duration-years",
    "timer-literal-years",
    "timer-literal-months",
    "script-nested-list",
    "dmn-question-marks",
}


@pytest.fixture(scope="module")
def registry() -> HandlerRegistry:
    registry = HandlerRegistry()
    warm_up(registry)
    return registry


def test_the_list_holds_the_reviewed_bombs_and_enough_others() -> None:
    ids = [bomb.id for bomb in BOMBS]
    assert len(ids) == len(set(ids)), "bomb ids must be unique"
    assert len(BOMBS) >= 40
    assert set(ids) >= FROM_THE_ISSUE
    assert {bomb.kind for bomb in BOMBS} >= {"expression", "script", "timer", "dmn", "diagram"}


@pytest.mark.parametrize("bomb", BOMBS, ids=lambda bomb: bomb.id)
def test_bomb_is_refused_quickly_and_small(bomb: Bomb, registry: HandlerRegistry) -> None:
    outcome = try_bomb(bomb, registry)
    assert outcome.refused, f"{bomb.id} ({bomb.note}) was not refused: {outcome.message}"
    assert outcome.where in ("deploy", "run")
    assert outcome.cpu_ms < CPU_LIMIT_MS, f"{bomb.id} took {outcome.cpu_ms} ms of CPU"
    assert outcome.peak_bytes < MEMORY_LIMIT, f"{bomb.id} peaked at {outcome.peak_bytes} bytes"
    # The worker is alive and other tickets unaffected: the same process evaluates and deploys as before.
    assert evaluate("sum([1, 2, 3]) * 2", {}) == 12
    assert try_bomb(Bomb("harmless", "timer", "PT30M"), registry).message.startswith("accepted")


def test_a_literal_timer_bomb_is_refused_at_deploy_naming_the_element(registry: HandlerRegistry) -> None:
    outcome = try_bomb(next(b for b in BOMBS if b.id == "timer-literal-months"), registry)
    assert outcome.where == "deploy"
    assert re.search(r"intermediate ?catch ?event bomb \(bomb timer\).*P9999999M", outcome.message, re.I | re.S)


# -- a fuzzer in the spirit of a property test: random expressions from the allowed vocabulary --------
_CONSTANTS = [
    "0",
    "1",
    "-1",
    "2",
    "10**9",
    "10**100",
    "999999",
    "0.5",
    "1e308",
    "'a'",
    "'ß'",
    "''",
    "'x' * 1000",
    "[0] * 1000",
    "[[0] * 1000] * 100",
    "[]",
    "{'k': [1, 2]}",
    "True",
    "None",
    "now",
    "big",
    "items",
]
_UNARY = [
    "-{}",
    "+{}",
    "not {}",
    "len({})",
    "str({})",
    "sorted({})",
    "max({})",
    "min({})",
    "sum({})",
    "abs({})",
    "int({})",
    "float({})",
    "upper({})",
    "lower({})",
    "any({})",
    "all({})",
    "bool({})",
    "round({}, {})",
    "{}[::{}]",
    "{}[{}]",
    "parse_instant({})",
    "add_duration({}, {})",
]
_BINARY = [
    "{} + {}",
    "{} * {}",
    "{} ** {}",
    "{} - {}",
    "{} // {}",
    "{} % {}",
    "{} / {}",
    "{} == {}",
    "{} != {}",
    "{} < {}",
    "{} <= {}",
    "{} > {}",
    "{} >= {}",
    "{} in {}",
    "{} not in {}",
    "{} is None",
    "{} is not None",
    "{} and {}",
    "{} or {}",
    "({} if {} else {})",
    "[{}, {}]",
    "({}, {})",
    "{{{}: {}}}",
    "{}.k",
    "{}[{}:{}]",
]


_SYMBOLS = {
    ast.Add: "{} + {}",
    ast.Sub: "{} - {}",
    ast.Mult: "{} * {}",
    ast.Div: "{} / {}",
    ast.FloorDiv: "{} // {}",
    ast.Mod: "{} % {}",
    ast.Pow: "{} ** {}",
    ast.Eq: "{} == {}",
    ast.NotEq: "{} != {}",
    ast.Lt: "{} < {}",
    ast.LtE: "{} <= {}",
    ast.Gt: "{} > {}",
    ast.GtE: "{} >= {}",
    ast.In: "{} in {}",
    ast.NotIn: "{} not in {}",
    ast.Is: "{} is None",
    ast.IsNot: "{} is not None",
    ast.USub: "-{}",
    ast.UAdd: "+{}",
    ast.Not: "not {}",
}


def test_the_fuzzer_speaks_the_whole_language() -> None:
    """Every function and operator the sandbox offers is in the fuzzer's vocabulary, so none escapes it."""
    vocabulary = " ".join(_UNARY + _BINARY)
    assert all(f"{name}(" in vocabulary for name in FUNCTIONS)
    offered = [*_expressions._BINARY, *_expressions._COMPARE, *_expressions._UNARY]
    assert set(offered) == set(_SYMBOLS), "an operator was added: give it a symbol and put it in the vocabulary"
    for operator in offered:
        assert _SYMBOLS[operator] in vocabulary, _SYMBOLS[operator]


def _expression(rng: random.Random, depth: int) -> str:
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(_CONSTANTS)
    template = rng.choice(_UNARY) if rng.random() < 0.4 else rng.choice(_BINARY)
    return template.format(*(_expression(rng, depth - 1) for _ in range(template.count("{}"))))


def test_random_expressions_stay_within_time_and_memory() -> None:
    rng = random.Random(20261127)  # deterministic: a failure is reproducible
    inner = [0] * 100_000
    names = {"now": "2026-11-27T08:00:00+00:00", "big": [inner] * 100_000, "items": list(range(1000))}
    refused = 0
    tracemalloc.start()
    try:
        for _ in range(600):
            text = _expression(rng, 5)
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            cpu = time.process_time()
            try:
                evaluate(text, names)
            except ExpressionError:
                refused += 1
            elapsed = (time.process_time() - cpu) * 1000
            peak = tracemalloc.get_traced_memory()[1] - base
            assert elapsed < CPU_LIMIT_MS and peak < MEMORY_LIMIT, (text, elapsed, peak)
    finally:
        tracemalloc.stop()
    assert 0 < refused < 600, "the fuzzer must produce both accepted and refused expressions"

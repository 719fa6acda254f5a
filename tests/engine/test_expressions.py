"""The diagram expression sandbox: what process owners may write, and what can never run."""

from __future__ import annotations

import random
import re
import time
from xml.sax.saxutils import escape

import pytest

from bench.bombs import around
from engine import isotime
from engine.dmn_entries import BoundedDMNEngine, replace_input_marks, spiffworkflow_engine
from engine.expressions import ExpressionError, check_script, evaluate, execute_assignments


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
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
    ],
)
def test_allowed_expressions(text: str, names: dict, expected: object) -> None:
    assert evaluate(text, names) == expected


@pytest.mark.parametrize(
    "text",
    [
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
    ],
)
def test_escapes_and_resource_bombs_are_refused(text: str) -> None:
    with pytest.raises(ExpressionError) as err:
        evaluate(text, {"x": {"y": 1}, "uuid": {"os": {}}, "a": "s"})
    assert err.value.code in {
        "not_allowed",
        "private_name",
        "unknown_function",
        "too_large",
        "unknown_name",
        "unknown_field",
        "syntax",
        "too_many_steps",
    }


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
    for script in (
        "import os",
        "def f():\n    pass",
        "for i in x:\n    y = i",
        "x.y = 1",
        "print('hi')",
        "while True:\n    pass",
        "__x = 1",
    ):
        with pytest.raises(ExpressionError):
            check_script(script)


# -- bounds (issue 8 §2): sizes are checked before anything is built -----------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sum([1, 2.5, True])", 4.5),
        ("sorted(['b', 'a'])", ["a", "b"]),
        ("str([1, 'x'])", "[1, 'x']"),
        ("max([[1, 2], [1, 3]])", [1, 3]),
        ("'b' in 'abc' and 2 in [1, 2] and 'k' in {'k': 1}", True),
        ("int('42') + int('ff', 16) + int(2.9)", 299),
        ("round(2.567, 2)", 2.57),
        ("round(1234, -2)", 1200),
        ("lower('ÀB') + upper('ß')", "àbSS"),
        ("7 % 3 + 2 ** 10 + 7 // 2", 1028),
        ("len([[0] * 100] * 100)", 100),
        ("[0, 1, 2, 3][::-2]", [3, 1]),
        ("[0, 1, 2][::10**100] + [0, 1, 2][10**100:] + [0, 1, 2][-10**100:1]", [0, 0]),
        ("(1, 2) + (3,)", (1, 2, 3)),
        ("len('ab' * 400000)", 800_000),
    ],
)
def test_bounded_builtins_keep_their_meaning(text: str, expected: object) -> None:
    assert evaluate(text, {}) == expected


def test_weight_counts_a_repeated_inner_list_every_time_it_occurs() -> None:
    assert len(evaluate("[[0] * 499] * 999", {})) == 999  # 1 + 999 + 999 * (1 + 499 + 499) units: allowed
    with pytest.raises(ExpressionError) as err:
        evaluate("[[0] * 500] * 1000", {})  # 1,002,001 units although it holds two lists
    assert err.value.code == "too_large"


def test_task_data_is_weighed_when_used_not_when_read() -> None:
    inner = [0] * 100_000
    names = {"big": [inner] * 100_000}
    assert evaluate("len(big)", names) == 100_000
    assert evaluate("big[3][5]", names) == 0
    for text in ("big == big", "str(big)", "max(big)", "[big]", "big[:20]"):
        with pytest.raises(ExpressionError) as err:
            evaluate(text, names)
        assert err.value.code == "too_large", text


def test_all_values_of_one_evaluation_share_one_memory_budget() -> None:
    assert evaluate(" + ".join(["len([0] * 499_999)"] * 4), {}) == 4 * 499_999
    with pytest.raises(ExpressionError) as err:
        evaluate(" + ".join(["len([0] * 499_999)"] * 9), {})
    assert err.value.code in ("too_large", "too_many_steps")


def test_builtin_work_counts_as_steps() -> None:
    assert len(evaluate("sorted([0.5] * 10_000)", {})) == 10_000
    with pytest.raises(ExpressionError) as err:
        evaluate("sorted([0.5] * 400_000)", {})
    assert err.value.code == "too_many_steps"


def test_a_script_shares_one_budget_and_cannot_build_cycles_or_deep_values() -> None:
    data: dict = {"a": {}}
    with pytest.raises(ExpressionError) as err:
        execute_assignments("\n".join(f"v{i} = [0] * 499999" for i in range(9)), data)
    assert err.value.code in ("too_large", "too_many_steps")
    data = {"a": {"k": 1}}
    with pytest.raises(ExpressionError) as err:
        execute_assignments('a["self"] = a', data)
    assert err.value.code == "cyclic" and data == {"a": {"k": 1}}  # the assignment was undone
    with pytest.raises(ExpressionError) as err:
        execute_assignments("x = 0\n" + "x = [x]\n" * 70, {})
    assert err.value.code == "too_deep"
    data = {"x": {}}
    with pytest.raises(ExpressionError) as err:
        execute_assignments('x["a"] = [0] * 300000\nx["b"] = [0] * 300000', data)
    assert err.value.code == "too_large" and list(data["x"]) == ["a"]


def test_text_formatting_with_percent_is_refused_numbers_keep_modulo() -> None:
    with pytest.raises(ExpressionError) as err:
        evaluate("'%0999999999d' % 0", {})
    assert err.value.code == "not_allowed"
    assert evaluate("x % 4", {"x": 10}) == 2


def test_deep_syntax_is_refused_before_it_is_walked() -> None:
    for text in ("x" + "[0]" * 150, "-" * 150 + "1", "a" + ".b" * 150):
        with pytest.raises(ExpressionError) as err:
            evaluate(text, {"x": [0], "a": {}})
        assert err.value.code == "too_deep", text
    assert evaluate("+".join(["1"] * 50), {}) == 50


# -- durations, cycles and instants are bounded before SpiffWorkflow's calendar arithmetic --------------
@pytest.mark.parametrize("text", ["P100Y", "P1200M", "P99Y12M", "P36525D", "PT0.002S", "P5217W", "PT876600H"])
def test_durations_up_to_a_hundred_years_are_accepted(text: str) -> None:
    isotime.check_duration(text)


@pytest.mark.parametrize(
    "text",
    ["P99999999Y", "P9999999M", "P100Y1D", "P5218W", "PT" + "9" * 30 + "S", "P" + "1" * 100 + "D", "P1Y2M3W", "P"],
)
def test_durations_beyond_the_bounds_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        isotime.check_duration(text)


def test_cycles_have_a_bounded_count_and_a_minimum_interval() -> None:
    for text in ("R2/PT0.1S", "R6/P1D", "R/PT1S", "R3/2026-01-01T00:00:00Z/PT1H", "R3/PT1H/2026-01-01T00:00:00Z"):
        isotime.check_cycle(text)
    for text in (
        "R99999/P1D",
        "R/PT0.5S",
        "R2/PT0.0001S",
        "R1/P101Y",
        "R3/PT1H/PT1H",
        "R" + "9" * 200 + "/PT1S",
        "R10000/P1Y",
        "R2/2300-01-01T00:00:00Z/PT1H",
    ):
        with pytest.raises(ValueError):
            isotime.check_cycle(text)


def test_instants_lie_between_1970_and_2200() -> None:
    assert isotime.parse_instant("2200-12-31T00:00:00Z").year == 2200
    for text in ("1969-12-31T23:59:59Z", "2201-01-01T00:00:00Z", "2026-01-01T00:00:00", "x" * 100):
        with pytest.raises(ValueError):
            isotime.parse_instant(text)
    with pytest.raises(ValueError):
        isotime.add_duration("2150-01-01T00:00:00Z", "P60Y")
    # SpiffWorkflow's calendar arithmetic, kept: a month from January 31st adds January's 31 days.
    assert isotime.add_duration("2026-01-31T00:00:00Z", "P1M") == "2026-03-03T00:00:00+00:00"


def test_months_are_counted_quickly_even_at_the_bound() -> None:
    start = time.process_time()
    isotime.add_duration("2026-01-01T00:00:00Z", "P1200M")
    assert time.process_time() - start < 1.0  # a safety bound: SpiffWorkflow loops month by month


# -- DMN input entries: SpiffWorkflow's "?" substitution without its quadratic regex ---------------------
_SPIFF_MARK = re.compile(r'(\?)(?=(?:[^\'"]|[\'"][^\'"]*[\'"])*$)')


def test_input_marks_are_replaced_exactly_as_spiffworkflow_does() -> None:
    rng = random.Random(8)
    for _ in range(3000):
        entry = "".join(rng.choice("?'\"a =") for _ in range(rng.randint(0, 14)))
        assert replace_input_marks(entry) == _SPIFF_MARK.sub("dmninputexpr", entry), entry


def test_a_long_entry_is_replaced_in_linear_time() -> None:
    start = time.process_time()
    assert replace_input_marks("?" * 200_000 + '"').count("dmninputexpr") == 0
    assert replace_input_marks("?" * 200_000).count("dmninputexpr") == 200_000
    assert time.process_time() - start < 1.0  # a safety bound: the regex takes minutes here


_RULES = ["? > 5", '"a?" == "a?" and ? < 10', "'?' in \"x?y\" or ? == 7", '"it\'s" != str(?)', "? in [1, 2]", "-"]


def _decision_files() -> dict[str, str]:
    rules = "".join(
        f'<rule id="r{i}"><inputEntry id="e{i}"><text>{escape(text)}</text></inputEntry>'
        f'<outputEntry id="o{i}"><text>{i}</text></outputEntry></rule>'
        for i, text in enumerate(_RULES)
    )
    dmn = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
        'id="d" name="D" namespace="http://closeloop.example/dmn"><decision id="marks" name="Marks">'
        '<decisionTable id="marks_table" hitPolicy="COLLECT"><input id="i" label="X"><inputExpression id="ie">'
        '<text>x</text></inputExpression></input><output id="o" label="Rule" name="rule" typeRef="integer"/>'
        f"{rules}</decisionTable></decision></definitions>"
    )
    task = (
        '<bpmn:businessRuleTask id="decide" name="decide"><bpmn:extensionElements><spiffworkflow:calledDecisionId>'
        "marks</spiffworkflow:calledDecisionId></bpmn:extensionElements></bpmn:businessRuleTask>"
    )
    return {"marks.bpmn": around(task, "decide"), "marks.dmn": dmn}


@pytest.mark.parametrize("x", [0, 1, 7, 12])
def test_the_bounded_dmn_engine_decides_as_spiffworkflow_does(x: int) -> None:
    from engine.clock import FrozenClock
    from engine.deployments import parse
    from engine.handlers import HandlerRegistry
    from engine.scripting import StepScriptEngine
    from engine.transitions import new_workflow, run_until_blocked

    results = []
    for bounded in (False, True):
        parsed = parse(_decision_files(), HandlerRegistry())
        task_spec = parsed.specs["bomb_process"].task_specs["decide"]
        assert type(task_spec.dmnEngine) is BoundedDMNEngine  # the parser creates ours
        if not bounded:
            task_spec.dmnEngine = spiffworkflow_engine(task_spec.dmnEngine.decision_table)  # the reference
        workflow = new_workflow(parsed, "bomb_process", {"x": x}, StepScriptEngine(HandlerRegistry(), FrozenClock()))
        run_until_blocked(workflow, workflow.refresh_timers)
        results.append(workflow.data.get("rule", workflow.last_task.data.get("rule")))
    assert results[0] == results[1]
    assert 5 in results[1]  # the "-" rule always matches: the table did run


def test_task_data_numbers_are_weighed_even_next_to_infinities() -> None:
    names = {"v": [float("inf"), 10**1000, float("nan")], "w": [float("nan"), 10**1200] * 400}
    assert evaluate("len(str(v))", names) > 1000
    with pytest.raises(ExpressionError) as err:
        evaluate("str(w)", names)  # 800 elements, the ints counted at 1,200 digits each
    assert err.value.code == "too_large"

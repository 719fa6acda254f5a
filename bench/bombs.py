"""Resource bombs and sandbox escapes a process owner could put in a diagram, and how to try one.

Issue 8 §2: every expression evaluation, timer computation and DMN entry parse is bounded in time and
memory, also inside one builtin call.  :data:`BOMBS` is the list of attacks we know of (those the
review found among them); :func:`try_bomb` deploys or evaluates one the way the engine would and
measures what refusing it cost.  ``tests/engine/test_bombs.py`` asserts each is refused within 1 s CPU
and 64 MB; ``python -m bench.security`` reports the same figures.

Kinds and what ``text`` is:

* ``expression``: a diagram expression, evaluated with :func:`engine.expressions.evaluate` against
  ``data()`` plus ``now``;
* ``script``: a script task's text, run with :func:`engine.expressions.execute_assignments`;
* ``timer``: a timer value as written in the diagram (``element`` says timeDuration, timeCycle or
  timeDate), deployed in a small process and, if accepted, run until the timer is computed;
* ``dmn``: the text of one DMN cell (``element``: inputEntry, outputEntry or inputExpression) in a
  small decision table called by a business rule task, deployed and, if accepted, run;
* ``diagram``: a whole BPMN file (see :func:`around` to write only the element under test), deployed
  and, if accepted, run.

To add one, append a :class:`Bomb` to :data:`BOMBS`; ids must be unique.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from xml.sax.saxutils import escape

Kind = Literal["expression", "script", "timer", "dmn", "diagram"]
NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def _nested() -> dict[str, Any]:
    """Task data holding ``[[0] * 100_000] * 100_000``: two lists in memory, 10^10 elements expanded."""
    inner = [0] * 100_000
    return {"big": [inner] * 100_000, "x": {"y": 1}}


def _plain() -> dict[str, Any]:
    return {"x": {"y": 1}, "items": [3, 1, 2], "a": "s"}


@dataclass(frozen=True)
class Bomb:
    id: str
    kind: Kind
    text: str
    note: str = ""
    element: str = ""  # timer: timeDuration|timeCycle|timeDate; dmn: inputEntry|outputEntry|inputExpression
    data: Callable[[], dict[str, Any]] = field(default=_plain, repr=False, compare=False)


@dataclass(frozen=True)
class BombOutcome:
    refused: bool
    where: Literal["deploy", "run", ""]
    cpu_ms: float
    peak_bytes: int
    message: str


BPMN_NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)


def around(element: str, element_id: str = "bomb", process_id: str = "bomb_process", extra: str = "") -> str:
    """A deployable BPMN file: start → ``element`` (whose id is ``element_id``) → end.

    ``element`` is the XML of one flow node without incoming/outgoing (they are added); ``extra`` is
    XML placed in ``definitions`` (messages, correlation keys…).
    """
    flows = "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>"
    marker = "</bpmn:extensionElements>"
    at = element.index(marker) + len(marker) if marker in element else element.index(">") + 1
    node = element[:at] + flows + element[at:]
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {BPMN_NS} id="bomb_definitions" '
        f'targetNamespace="http://closeloop.example/bombs">{extra}'
        f'<bpmn:process id="{process_id}" isExecutable="true">'
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        f'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{element_id}"/>{node}'
        f'<bpmn:sequenceFlow id="f2" sourceRef="{element_id}" targetRef="end"/>'
        '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
        "</bpmn:process></bpmn:definitions>"
    )


def _timer_files(bomb: Bomb) -> dict[str, str]:
    tag = bomb.element or "timeDuration"
    event = (
        f'<bpmn:intermediateCatchEvent id="bomb" name="bomb timer"><bpmn:timerEventDefinition id="bomb_def">'
        f'<bpmn:{tag} xsi:type="bpmn:tFormalExpression">{escape(bomb.text)}</bpmn:{tag}>'
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )
    return {"bomb.bpmn": around(event)}


def _dmn_files(bomb: Bomb) -> dict[str, str]:
    cells = {"inputExpression": "x", "inputEntry": "-", "outputEntry": '"PT30M"'}
    if bomb.element == "inputExpression":
        cells["inputEntry"] = '"red"'  # so that the input expression is evaluated
    cells[bomb.element or "inputEntry"] = bomb.text
    cell = {k: escape(v) for k, v in cells.items()}
    dmn = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="bomb_dmn" name="Bomb" '
        'namespace="http://closeloop.example/dmn"><decision id="bomb_decision" name="Bomb decision">'
        '<decisionTable id="bomb_table" hitPolicy="UNIQUE">'
        f'<input id="bomb_input" label="Column"><inputExpression id="bomb_input_expression" typeRef="string">'
        f"<text>{cell['inputExpression']}</text></inputExpression></input>"
        '<output id="bomb_output" label="Result" name="result" typeRef="string"/>'
        f'<rule id="bomb_rule"><inputEntry id="bomb_entry"><text>{cell["inputEntry"]}</text></inputEntry>'
        f'<outputEntry id="bomb_output_entry"><text>{cell["outputEntry"]}</text></outputEntry></rule>'
        "</decisionTable></decision></definitions>"
    )
    task = (
        '<bpmn:businessRuleTask id="bomb" name="bomb decision"><bpmn:extensionElements>'
        "<spiffworkflow:calledDecisionId>bomb_decision</spiffworkflow:calledDecisionId>"
        "</bpmn:extensionElements></bpmn:businessRuleTask>"
    )
    return {"bomb.bpmn": around(task), "bomb.dmn": dmn}


def _deploy_and_run(files: dict[str, str], registry: Any, data: dict[str, Any]) -> str:
    """Deploy ``files``; if accepted, run every process until it waits.  Returns where it was refused."""
    from engine.clock import FrozenClock
    from engine.deployments import parse
    from engine.scripting import StepScriptEngine
    from engine.transitions import new_workflow, run_until_blocked

    parsed = parse(files, registry)  # raises DeploymentError: refused at deploy
    for process_id in parsed.specs:
        workflow = new_workflow(parsed, process_id, data, StepScriptEngine(registry, FrozenClock(NOW)))
        run_until_blocked(workflow, workflow.refresh_timers)
    return "accepted"


def _run(bomb: Bomb, registry: Any) -> None:
    from engine.expressions import evaluate, execute_assignments

    data = bomb.data()
    if bomb.kind == "expression":
        evaluate(bomb.text, {"now": NOW.isoformat(), **data})
    elif bomb.kind == "script":
        execute_assignments(bomb.text, data, {"now": NOW.isoformat()})
    elif bomb.kind == "timer":
        _deploy_and_run(_timer_files(bomb), registry, data)
    elif bomb.kind == "dmn":
        _deploy_and_run(_dmn_files(bomb), registry, data)
    elif bomb.kind == "diagram":
        _deploy_and_run({"bomb.bpmn": bomb.text}, registry, data)
    else:
        raise ValueError(f"unknown bomb kind {bomb.kind!r}")


def _raised_by_engine(err: BaseException) -> bool:
    """True when the innermost frame that raised ``err`` is in one of our ``engine`` modules."""
    frames = err.__traceback__
    if frames is None:
        return False
    while frames.tb_next is not None:
        frames = frames.tb_next
    return str(frames.tb_frame.f_globals.get("__name__", "")).startswith("engine.")


def _refusal(err: BaseException) -> bool:
    """True when ``err`` (or what it wraps) is one of the engine's own, named refusals."""
    from engine.expressions import ExpressionError

    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ExpressionError):
            return True
        if type(current).__name__ == "DeploymentError":
            # A refusal names the element for every problem; a schema or parse error does not.
            return all(problem.element_id for problem in current.problems)  # type: ignore[attr-defined]
        if type(current).__name__ == "SandboxError":
            return True
        if type(current).__name__ in ("ValueError", "WorkflowTaskException", "WorkflowException") and _raised_by_engine(
            current
        ):
            return True  # a deliberate refusal raised by our own code (a bound in engine.isotime, engine.specs…)
        wrapped = getattr(current, "exception", None)
        current = wrapped if isinstance(wrapped, BaseException) else current.__cause__
    return False


def try_bomb(bomb: Bomb, registry: Any, *, trace_memory: bool = True) -> BombOutcome:
    """Deploy or evaluate ``bomb`` as the engine would; measure CPU time and peak traced memory.

    ``tracemalloc`` slows Python two- to threefold, so a report measures time with ``trace_memory=False``
    (``peak_bytes`` is then 0) and memory in a second, traced try.
    """
    started_tracing = trace_memory and not tracemalloc.is_tracing()
    if started_tracing:
        tracemalloc.start()
    if trace_memory:
        tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0] if trace_memory else 0
    cpu = time.process_time()
    where: Literal["deploy", "run", ""] = ""
    try:
        _run(bomb, registry)
        refused, message = False, "accepted and ran without a refusal"
    except Exception as err:  # noqa: BLE001 - every failure is classified below
        refused, message = _refusal(err), f"{type(err).__name__}: {err}"[:500]
        deploy_error = type(err).__name__ == "DeploymentError"
        where = "deploy" if deploy_error else "run"
    cpu_ms = (time.process_time() - cpu) * 1000
    peak = max(0, tracemalloc.get_traced_memory()[1] - base) if trace_memory else 0
    if started_tracing:
        tracemalloc.stop()
    return BombOutcome(refused, where, round(cpu_ms, 2), peak, message)


def _deep_value_script() -> str:
    return "a = 0\n" + "a = [a]\n" * 80


def _script_task(script: str) -> str:
    return around(
        f'<bpmn:scriptTask id="bomb" name="bomb script" scriptFormat="python">'
        f"<bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>"
    )


NESTED = "[[0]*100000]*100000"
BOMBS: list[Bomb] = [
    # -- found by the review (issue 8 §2) ------------------------------------------------------------
    Bomb("sum-nested-list", "expression", f"sum({NESTED}, [])", "quadratic list concatenation inside sum()"),
    Bomb("str-nested-list", "expression", f"str({NESTED})", "str() of 10^10 elements"),
    Bomb("max-nested-list", "expression", f"max({NESTED})", "comparisons of deep lists inside max()"),
    Bomb("percent-width", "expression", "'%0999999999d' % 0", "a 1 GB string from a format width"),
    Bomb("add-duration-years", "expression", 'add_duration(now, "P99999999Y")', "SpiffWorkflow adds months 1 by 1"),
    Bomb("timer-literal-years", "timer", "P99999999Y", "a literal timer of 10^8 years"),
    Bomb("timer-literal-months", "timer", "P9999999M", "took 8.6 s in SpiffWorkflow's month loop"),
    Bomb("script-nested-list", "script", f"x = {NESTED}", "a script task building 10^10 elements"),
    Bomb("dmn-question-marks", "dmn", "?" * 30_000, "SpiffWorkflow's '?' regex is quadratic", "inputEntry"),
    # -- classic escapes -------------------------------------------------------------------------------
    Bomb("subclasses", "expression", "().__class__.__base__.__subclasses__()", "the classic sandbox escape"),
    Bomb("import", "expression", "__import__('os').system('id')", "a module object"),
    Bomb("getattr", "expression", "getattr(x, '__class__')", "attribute access by name"),
    Bomb("lambda", "expression", "(lambda: 1)()", "a function literal"),
    Bomb("list-comprehension", "expression", "[c for c in ().__class__.__mro__]", "comprehension scopes"),
    Bomb("generator", "expression", "sum(i for i in [1, 2])", "generator expressions"),
    Bomb("fstring-width", "expression", 'f"{0:>999999999}"', "an f-string format spec"),
    Bomb("format-width", "expression", "'{:>999999999}'.format(0)", "str.format with a huge width"),
    Bomb("attribute-call", "expression", "'a'.join(['b', 'c'])", "a method call on a literal"),
    Bomb("eval", "expression", "eval('1')", "eval by name"),
    Bomb("builtins-name", "expression", "__builtins__", "the builtins module"),
    Bomb("private-name", "expression", "_secret", "names starting with _"),
    Bomb("dunder-field", "expression", "x.__class__", "dunder attribute on task data"),
    Bomb("fullwidth-dunder", "expression", "\uff3f\uff3fimport\uff3f\uff3f('os')", "NFKC turns ＿ into _"),
    Bomb("fullwidth-eval", "expression", "\uff45\uff56\uff41\uff4c('1')", "NFKC turns ｅｖａｌ into eval"),
    Bomb("walrus", "expression", "(y := 1)", "assignment expressions"),
    Bomb("record-unpack", "expression", "{**x}", "dict unpacking"),
    Bomb("starred-args", "expression", f"max(*{NESTED})", "star arguments"),
    Bomb("bytes-literal", "expression", "b'x' * 10**9", "bytes literals"),
    Bomb("complex-power", "expression", "1j ** 10**9", "complex literals"),
    # -- sizes and costs inside one operator or builtin -----------------------------------------------
    Bomb("power-tower", "expression", "9**9**9", "a 369-million-digit number"),
    Bomb("power-big", "expression", "2 ** 10**6", "a million-bit number"),
    Bomb(
        "int-product",
        "expression",
        "(10**1000) * (10**1000) * (10**1000) * (10**1000) * (10**1000)",
        "numbers growing by multiplication",
    ),
    Bomb("text-repeat", "expression", "'a' * 10**9", "a 1 GB text"),
    Bomb("list-repeat", "expression", "[0] * 10**9", "an 8 GB list"),
    Bomb("in-big-text", "expression", "'x' in 'y' * 10**8", "the haystack is built before the search"),
    Bomb("range", "expression", "list(range(10**9))", "ranges are not offered"),
    Bomb("sorted-big", "expression", "sorted([0.5] * 400000)", "n log n comparisons inside one call"),
    Bomb("sorted-text", "expression", "sorted('\u00e9' * 999999)", "a million new one-character strings"),
    Bomb("int-long-text", "expression", "int('9' * 100000)", "quadratic text → int conversion"),
    Bomb("float-long-text", "expression", "float('9' * 500000)", "a long text → float conversion"),
    Bomb("round-digits", "expression", "round(7, -10**9)", "round() computing 10**(10**9)"),
    Bomb("parse-instant-long", "expression", "parse_instant('2026' + '9' * 100000)", "a 100,000-character instant"),
    Bomb("parse-instant-far", "expression", "parse_instant('9999-12-31T00:00:00+00:00')", "an instant beyond 2200"),
    Bomb("add-duration-weeks", "expression", 'add_duration(now, "P9999999W")', "10^7 weeks"),
    Bomb("slice-huge-step", "expression", "len(([0] * 499999)[::10**100] * 10**7)", "a huge step, then a repeat"),
    Bomb("str-of-floats", "expression", "str([1.5] * 400000)", "24 characters per element"),
    Bomb("upper-growth", "expression", "upper('\u00df' * 999999)", "ß upper-cases to SS"),
    Bomb("slice-copies", "expression", "([0]*450000)[::1] + ([0]*450000)[::-1]", "slices copy"),
    Bomb("deep-equality", "expression", " == ".join(["[[0]*499]*999"] * 4), "each comparison walks a million elements"),
    Bomb("many-big-lists", "expression", " + ".join(["len([0]*499999)"] * 10), "each list fits, together they do not"),
    Bomb("data-sum", "expression", "sum(big, [])", "a nested list from task data", data=_nested),
    Bomb("data-str", "expression", "str(big)", "str() of nested task data", data=_nested),
    Bomb("data-max", "expression", "max(big)", "max() over nested task data", data=_nested),
    Bomb("data-equal", "expression", "big == big[:]", "== on nested task data", data=_nested),
    Bomb("data-in", "expression", "[0] in big", "'in' over nested task data", data=_nested),
    Bomb("data-concat", "expression", "big + big", "concatenating nested task data", data=_nested),
    # -- syntax ----------------------------------------------------------------------------------------
    Bomb("deep-parentheses", "expression", "(" * 10_000 + "1" + ")" * 10_000, "10,000 levels of parentheses"),
    Bomb("deep-unary", "expression", "-" * 9_999 + "1", "10,000 nested unary minus"),
    Bomb("deep-subscripts", "expression", "x" + "[0]" * 3_000, "3,000 nested subscripts"),
    Bomb("long-sum", "expression", "+".join(["1"] * 4_000), "a 4,000-deep left-leaning tree"),
    Bomb("too-long", "expression", "1+" * 6_000 + "1", "longer than an expression may be"),
    Bomb("huge-literal", "expression", "9" * 4_000, "a 13,000-bit literal"),
    # -- scripts ---------------------------------------------------------------------------------------
    Bomb("script-import", "script", "import os", "imports"),
    Bomb("script-exec", "script", "x = exec('1')", "exec by name"),
    Bomb("script-call", "script", "print('hi')", "a bare call"),
    Bomb("script-loop", "script", "while True:\n    pass", "a loop"),
    Bomb("script-cycle", "script", 'a = {}\na["self"] = a', "a record containing itself"),
    Bomb("script-deep-value", "script", _deep_value_script(), "nesting a value 80 levels deep"),
    Bomb(
        "script-many-lists",
        "script",
        "\n".join(f"v{i} = [0] * 499999" for i in range(10)),
        "each statement fits, the script does not",
    ),
    Bomb(
        "script-grow-record",
        "script",
        "\n".join(f'x["k{i}"] = [0] * 400000' for i in range(4)),
        "growing a task-data record in place",
    ),
    Bomb("script-task-nested", "diagram", _script_task(f"x = {NESTED}"), "the script bomb inside a diagram"),
    # -- timers ----------------------------------------------------------------------------------------
    Bomb("timer-seconds", "timer", "PT" + "9" * 30 + "S", "10^30 seconds"),
    Bomb("timer-long-literal", "timer", "P" + "1" * 100_000 + "D", "a 100,000-character literal"),
    Bomb("timer-cycle-count", "timer", "R99999999/PT1S", "10^8 repetitions", "timeCycle"),
    Bomb("timer-cycle-fast", "timer", "R/PT0.001S", "an endless cycle every millisecond", "timeCycle"),
    Bomb("timer-far-date", "timer", "9999-12-31T23:59:59Z", "an instant beyond 2200", "timeDate"),
    Bomb("timer-expression-years", "timer", '"P" + "9" * 8 + "Y"', "a duration computed at run time"),
    Bomb(
        "timer-expression-date", "timer", 'add_duration(now, "P99999999Y")', "a date computed at run time", "timeDate"
    ),
    Bomb("timer-expression-cycle", "timer", '"R" + "9" * 9 + "/PT1S"', "a cycle computed at run time", "timeCycle"),
    # -- DMN -------------------------------------------------------------------------------------------
    Bomb("dmn-quoted-marks", "dmn", '"' + "?" * 20_000, "an unclosed quote before the marks", "inputEntry"),
    Bomb("dmn-entry-escape", "dmn", "__import__('os')", "an escape in an input entry", "inputEntry"),
    Bomb("dmn-output-escape", "dmn", "().__class__", "an escape in an output entry", "outputEntry"),
    Bomb("dmn-output-bomb", "dmn", NESTED, "a bomb in an output entry, run", "outputEntry"),
    Bomb("dmn-input-bomb", "dmn", f"str({NESTED})", "a bomb in an input expression, run", "inputExpression"),
]


def warm_up(registry: Any) -> None:
    """Import and run the deploy and evaluation paths once, so that a measurement is not an import."""
    from engine.deployments import parse
    from engine.expressions import evaluate

    evaluate("len(str([1, 2.5, 'x'])) + 1", {})
    parse(_dmn_files(Bomb("warm-up", "dmn", '"red"', element="inputEntry")), registry)
    _deploy_and_run(_timer_files(Bomb("warm-up", "timer", "PT1H")), registry, {})  # imports the run path too


# -- Diagram-level escapes: every element that carries an expression or code (appended by part B) -------------
# Each is refused at deploy by engine.validation / engine.expression_sites, except the computed multi-instance
# cardinality, which only the run can know and which engine.specs refuses before creating any instance.
ESCAPE = "__import__('os').system('touch /tmp/pwned')"
_CAMUNDA = 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'
_CORRELATION = (
    '<bpmn:collaboration id="bomb_collaboration"><bpmn:correlationKey name="bomb_key">'
    "<bpmn:correlationPropertyRef>bomb_property</bpmn:correlationPropertyRef></bpmn:correlationKey>"
    '</bpmn:collaboration><bpmn:correlationProperty id="bomb_property" name="bomb_property">'
    '<bpmn:correlationPropertyRetrievalExpression messageRef="bomb_message">'
    f"<bpmn:formalExpression>{escape(ESCAPE)}</bpmn:formalExpression>"
    "</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>"
)
_MESSAGE = '<bpmn:message id="bomb_message" name="bomb_message"/>'


def _throw(extensions: str) -> str:
    # The empty extensionElements first: around() puts the flows after the first one it finds.
    return (
        '<bpmn:intermediateThrowEvent id="bomb" name="bomb message">'
        "<bpmn:extensionElements></bpmn:extensionElements>"
        "<bpmn:messageEventDefinition "
        f'id="bomb_def" messageRef="bomb_message"><bpmn:extensionElements>{extensions}'
        "</bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateThrowEvent>"
    )


def _multi_instance(characteristics: str, task: str = "task") -> str:
    return f'<bpmn:{task} id="bomb" name="bomb loop">{characteristics}</bpmn:{task}>'


_PAYLOAD = '<spiffworkflow:messagePayload>{"id": 1}</spiffworkflow:messagePayload>'
BOMBS += [
    Bomb(
        "correlation-retrieval-escape",
        "diagram",
        around(_throw(_PAYLOAD), extra=_CORRELATION + _MESSAGE),
        "a message correlation property's retrieval expression (SpiffWorkflow evaluates it through the environment)",
    ),
    Bomb(
        "adhoc-completion-escape",
        "diagram",
        around(
            '<bpmn:adHocSubProcess id="bomb" name="bomb ad hoc"><bpmn:task id="bomb_inner"/>'
            f'<bpmn:completionCondition xsi:type="bpmn:tFormalExpression">{escape(ESCAPE)}</bpmn:completionCondition>'
            "</bpmn:adHocSubProcess>"
        ),
        "an ad-hoc subprocess's completion condition (evaluated through the environment)",
    ),
    Bomb(
        "message-payload-escape",
        "diagram",
        around(
            _throw(f"<spiffworkflow:messagePayload>{escape(ESCAPE)}</spiffworkflow:messagePayload>"), extra=_MESSAGE
        ),
        "a thrown message's payload expression",
    ),
    Bomb(
        "process-correlation-escape",
        "diagram",
        around(
            _throw(
                _PAYLOAD
                + "<spiffworkflow:processVariableCorrelation><spiffworkflow:propertyId>k</spiffworkflow:propertyId>"
                f"<spiffworkflow:expression>{escape(ESCAPE)}</spiffworkflow:expression>"
                "</spiffworkflow:processVariableCorrelation>"
            ),
            extra=_MESSAGE,
        ),
        "a process-variable correlation expression",
    ),
    Bomb(
        "conditional-event-escape",
        "diagram",
        around(
            '<bpmn:intermediateCatchEvent id="bomb" name="bomb condition"><bpmn:conditionalEventDefinition>'
            f"<bpmn:condition>{escape(ESCAPE)}</bpmn:condition></bpmn:conditionalEventDefinition>"
            "</bpmn:intermediateCatchEvent>"
        ),
        "a conditional event's condition",
    ),
    Bomb(
        "prescript-escape",
        "diagram",
        around(
            '<bpmn:userTask id="bomb" name="bomb task"><bpmn:extensionElements>'
            f"<spiffworkflow:preScript>x = {escape(ESCAPE)}</spiffworkflow:preScript></bpmn:extensionElements>"
            "</bpmn:userTask>"
        ),
        "a user task's pre-script",
    ),
    Bomb(
        "mi-cardinality-escape",
        "diagram",
        around(
            _multi_instance(
                f"<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>{escape(ESCAPE)}</bpmn:loopCardinality>"
                "</bpmn:multiInstanceLoopCharacteristics>"
            )
        ),
        "a multi-instance cardinality",
    ),
    Bomb(
        "mi-completion-escape",
        "diagram",
        around(
            _multi_instance(
                "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality>"
                f"<bpmn:completionCondition>{escape(ESCAPE)}</bpmn:completionCondition>"
                "</bpmn:multiInstanceLoopCharacteristics>"
            )
        ),
        "a multi-instance completion condition",
    ),
    Bomb(
        "mi-cardinality-literal",
        "diagram",
        around(
            _multi_instance(
                "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>1000000000</bpmn:loopCardinality>"
                "</bpmn:multiInstanceLoopCharacteristics>"
            )
        ),
        "10^9 task instances from a literal",
    ),
    Bomb(
        "mi-cardinality-computed",
        "diagram",
        around(
            _multi_instance(
                '<bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:loopCardinality>'
                "int(&quot;1&quot; + &quot;0&quot; * 9)</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>"
            )
        ),
        "10^9 task instances from a value only the run knows",
    ),
    Bomb(
        "loop-without-maximum",
        "diagram",
        around(
            _multi_instance(
                "<bpmn:standardLoopCharacteristics><bpmn:loopCondition>False</bpmn:loopCondition>"
                "</bpmn:standardLoopCharacteristics>"
            )
        ),
        "a standard loop that never ends",
    ),
    Bomb(
        "loop-maximum-huge",
        "diagram",
        around(_multi_instance('<bpmn:standardLoopCharacteristics loopMaximum="1000000000"/>')),
        "10^9 loop iterations",
    ),
    Bomb(
        "data-association-transformation",
        "diagram",
        around(
            '<bpmn:task id="bomb" name="bomb data"><bpmn:dataInputAssociation id="bomb_association">'
            f"<bpmn:transformation>{escape(ESCAPE)}</bpmn:transformation></bpmn:dataInputAssociation></bpmn:task>"
        ),
        "a data input association's transformation (SpiffWorkflow ignores it: refused, not run otherwise)",
    ),
    Bomb(
        "data-association-assignment",
        "diagram",
        around(
            '<bpmn:task id="bomb" name="bomb data"><bpmn:dataOutputAssociation id="bomb_association">'
            f"<bpmn:assignment><bpmn:from>{escape(ESCAPE)}</bpmn:from><bpmn:to>y</bpmn:to></bpmn:assignment>"
            "</bpmn:dataOutputAssociation></bpmn:task>"
        ),
        "a data output association's assignment",
    ),
    Bomb(
        "script-outside-script-task",
        "diagram",
        around(f'<bpmn:task id="bomb" name="bomb"><bpmn:script>{escape(ESCAPE)}</bpmn:script></bpmn:task>'),
        "a bpmn:script where no script runs",
    ),
    Bomb(
        "javascript-script-task",
        "diagram",
        around(
            '<bpmn:scriptTask id="bomb" name="bomb script" scriptFormat="javascript">'
            "<bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>"
        ),
        "a script in another language",
    ),
    Bomb(
        "camunda-script-listener",
        "diagram",
        around(
            f'<bpmn:task id="bomb" name="bomb"><bpmn:extensionElements><camunda:executionListener {_CAMUNDA} '
            f'event="start"><camunda:script scriptFormat="groovy">{escape(ESCAPE)}</camunda:script>'
            "</camunda:executionListener></bpmn:extensionElements></bpmn:task>"
        ),
        "a vendor script listener",
    ),
    Bomb(
        "unknown-spiff-extension",
        "diagram",
        around(
            '<bpmn:task id="bomb" name="bomb"><bpmn:extensionElements>'
            f"<spiffworkflow:onEnter>{escape(ESCAPE)}</spiffworkflow:onEnter></bpmn:extensionElements></bpmn:task>"
        ),
        "an extension the engine does not know",
    ),
]

"""DMN input entries evaluated without SpiffWorkflow's quadratic regex.

SpiffWorkflow 3.2.0's ``DMNEngine.evaluate`` turns the ``?`` of an input entry (``? > 5``) into the
input value with ``re.sub(r'(\\?)(?=(?:[^\\'"]|[\\'"][^\\'"]*[\\'"])*$)', ...)``: for every ``?`` the
lookahead rescans the rest of the entry, so the cost grows with (number of ``?``) × (length); a
30,000-``?`` entry hung a worker, and even a 1,000-character entry costs ~30 ms per rule per decision.

The lookahead only asks whether the rest of the entry holds an even number of quote characters
(``'`` or ``"``; any quote closes any other): then the ``?`` stands outside a quoted text.
:func:`replace_input_marks` answers that for every ``?`` in one pass from a running count, so the
result is identical to SpiffWorkflow's and linear in the entry.  :class:`BoundedDMNEngine` is
SpiffWorkflow's engine with that substitution and a length bound; the parser must create it instead
of ``DMNEngine`` (``BpmnDmnParser.get_engine``).  Deployment refuses longer entries by name.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.specs.model import DecisionTable
from SpiffWorkflow.task import Task

MAX_DMN_ENTRY = 1_000  # characters of one input entry
INPUT_NAME = "dmninputexpr"  # the name SpiffWorkflow gives the input value inside an entry
_QUOTES = "'\""


def replace_input_marks(entry: str) -> str:
    """``entry`` with every ``?`` outside quotes replaced by ``dmninputexpr``, exactly as SpiffWorkflow does."""
    if "?" not in entry:
        return entry
    quotes_after = sum(entry.count(q) for q in _QUOTES)
    parts: list[str] = []
    for char in entry:
        if char in _QUOTES:
            quotes_after -= 1
        elif char == "?" and quotes_after % 2 == 0:
            parts.append(INPUT_NAME)
            continue
        parts.append(char)
    return "".join(parts)


class BoundedDMNEngine(DMNEngine):
    """SpiffWorkflow's DMN engine; an input entry is bounded and its ``?`` replaced in linear time."""

    def evaluate(self, input_expr: str, match_expr: str | None, task: Task) -> object:
        if match_expr is None:
            return True
        if len(match_expr) > MAX_DMN_ENTRY:
            raise WorkflowTaskException(
                f"a decision input entry has {len(match_expr)} characters; at most {MAX_DMN_ENTRY} are allowed",
                task=task,
            )
        script_engine = task.workflow.script_engine
        match_expr = replace_input_marks(match_expr)
        if INPUT_NAME in match_expr:
            context = {INPUT_NAME: script_engine.evaluate(task, input_expr)}
            return script_engine.evaluate(task, match_expr, external_context=context)
        script_engine.validate(input_expr)
        needs_eq = self.needs_eq(script_engine, match_expr)
        expression = f"({input_expr}) == ({match_expr})" if needs_eq else input_expr + match_expr
        return script_engine.evaluate(task, expression)


def spiffworkflow_engine(table: DecisionTable) -> DMNEngine:
    """SpiffWorkflow's own engine for ``table``: the reference tests compare decisions with."""
    return DMNEngine(table)

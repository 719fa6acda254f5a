"""Decision tables evaluated outside any instance: many inputs against one DMN document (issue 12 §2).

The impact preview asks "what would this draft table have answered for each of the last 10,000
tickets?".  That must be the engine's own answer (the parser's bounded DMN engine, every entry through
the sandboxed evaluator), never a Python copy of the table, or the preview would drift from what a
deployment does.  A :class:`Decision` is compiled once from the DMN files of a deployment or a draft
and then evaluated per input; identical inputs are evaluated once (a table over ``urgency`` has four
answers however many tickets ask), so the cost follows the distinct inputs, not the tickets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

from .clock import FrozenClock
from .errors import EngineError
from .handlers import HandlerRegistry
from .parser import ClosedLoopParser
from .persistence import from_json_data, to_json_data
from .scripting import StepScriptEngine

_SCALARS = (str, int, float, bool, type(None))


class DecisionError(EngineError):
    """A decision that cannot be read or evaluated; the message names the file or the decision."""


@dataclass
class _Probe:
    """What SpiffWorkflow's DMN engine reads of a task: its data and its workflow's script engine."""

    data: dict[str, object]
    workflow: Any
    task_spec: Any = None
    id: str = "decision-probe"


@dataclass
class _Holder:
    script_engine: StepScriptEngine


@dataclass
class Decision:
    """One compiled decision table; :meth:`evaluate` answers it for plain JSON inputs."""

    decision_id: str
    _engine: DMNEngine
    _holder: _Holder
    _answers: dict[str, dict[str, object]] = field(default_factory=dict)

    def evaluate(self, inputs: Mapping[str, object]) -> dict[str, object]:
        """The table's outputs for ``inputs`` ({} when no rule matches), as plain JSON values."""
        if all(isinstance(v, _SCALARS) for v in inputs.values()):
            key = repr(sorted(inputs.items()))  # the common case, without a JSON round trip
        else:
            key = json.dumps(to_json_data(dict(inputs)), sort_keys=True, default=str)
        found = self._answers.get(key)
        if found is None:
            data = to_json_data(dict(inputs))
            probe = _Probe(from_json_data(data), self._holder)
            try:
                result = self._engine.result(probe)
            except Exception as err:  # the sandbox and SpiffWorkflow raise their own types
                raise DecisionError(f"decision {self.decision_id!r} failed for {data}: {err}") from err
            found = to_json_data(dict(result))
            self._answers[key] = found
        return dict(found)

    def evaluate_many(self, inputs: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
        return [self.evaluate(one) for one in inputs]


def decision_ids(files: Mapping[str, str]) -> list[str]:
    """The ids of the decisions the ``.dmn`` files of ``files`` define."""
    return sorted(_parser(files).dmn_parsers)


def compile_decision(files: Mapping[str, str], decision_id: str, now: datetime | None = None) -> Decision:
    """Decision ``decision_id`` of the ``.dmn`` files among ``files`` (deployment or draft contents).

    ``now`` is what ``now`` means inside the table's expressions (the engine clock's answer if None)."""
    parser = _parser(files)
    if decision_id not in parser.dmn_parsers:
        raise DecisionError(f"no decision table {decision_id!r} (found: {', '.join(sorted(parser.dmn_parsers))})")
    try:
        engine = parser.get_engine(decision_id, None)
    except Exception as err:
        raise DecisionError(f"decision {decision_id!r} cannot be read: {err}") from err
    clock = FrozenClock(now or datetime.now(UTC))
    return Decision(decision_id, engine, _Holder(StepScriptEngine(HandlerRegistry(), clock)))


def _parser(files: Mapping[str, str]) -> ClosedLoopParser:
    parser = ClosedLoopParser()
    for name, text in files.items():
        if not name.endswith(".dmn"):
            continue
        try:
            parser.add_dmn_str(text.encode("utf-8"), filename=name)
        except Exception as err:  # lxml and SpiffWorkflow raise many types on malformed input
            raise DecisionError(f"{name}: not a readable decision table: {err}") from err
    return parser

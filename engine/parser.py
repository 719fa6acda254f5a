"""The SpiffWorkflow parser with our service tasks and clocked, ISO-literal-aware timers."""

from __future__ import annotations

import ast
import json
from typing import Any

from lxml.etree import _Element
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, IntermediateCatchEvent, StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
)
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffIntermediateCatchEventParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser, SpiffTaskParser

from .dmn_entries import BoundedDMNEngine
from .expressions import ExpressionError, compile_expression
from .isotime import check_cycle, check_duration, looks_like_attempted_literal, looks_like_literal, parse_instant
from .specs import (
    CLOCKED_TIMERS,
    BoundedParallelMultiInstanceTask,
    BoundedSequentialMultiInstanceTask,
    HandlerServiceTask,
)


def _check_timer_value(kind: type, text: str) -> None:
    if kind is DurationTimerEventDefinition:
        check_duration(text)
    elif kind is CycleTimerEventDefinition:
        check_cycle(text)
    else:
        parse_instant(text)


class _ClockedTimerParsing:
    """Quote ISO literals, check every timer value at deploy time, and use the engine clock."""

    node: Any
    filename: str

    def parse_timer_event(self, event: Any) -> Any:
        definition = super().parse_timer_event(event)  # type: ignore[misc]
        kind = type(definition)
        text = (definition.expression or "").strip()
        if not text:
            raise ValidationException("the timer has no value", node=self.node, file_name=self.filename)
        try:
            if looks_like_literal(text) or looks_like_attempted_literal(text):
                _check_timer_value(kind, text)
                text = json.dumps(text)
            else:
                tree = compile_expression(text)
                if isinstance(tree.body, ast.Constant) and isinstance(tree.body.value, str):
                    _check_timer_value(kind, tree.body.value)
        except (ValueError, SyntaxError) as err:
            reason = err.args[0] if isinstance(err, ExpressionError) else str(err)
            raise ValidationException(
                f"timer value {definition.expression.strip()!r} is neither an ISO-8601 value "
                f"(PT30M, P7D, R3/PT10M, 2026-12-01T08:00:00+08:00) nor a valid expression: {reason}",
                node=self.node,
                file_name=self.filename,
            ) from err
        return CLOCKED_TIMERS[kind](definition.name, text, description=definition.description)


class ClockedStartEventParser(_ClockedTimerParsing, SpiffStartEventParser):
    pass


class ClockedBoundaryEventParser(_ClockedTimerParsing, SpiffBoundaryEventParser):
    pass


class ClockedIntermediateCatchEventParser(_ClockedTimerParsing, SpiffIntermediateCatchEventParser):
    pass


def _bounded_instances(parser: type) -> type:
    """``parser`` building multi-instance tasks that refuse more than MAX_INSTANCES instances."""
    if not issubclass(parser, SpiffTaskParser):
        return parser
    return type(
        f"Bounded{parser.__name__}",
        (parser,),
        {
            "PARALLEL_MI_CLASS": BoundedParallelMultiInstanceTask,
            "SEQUENTIAL_MI_CLASS": BoundedSequentialMultiInstanceTask,
        },
    )


_PARSERS = {
    **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
    full_tag("serviceTask"): (ServiceTaskParser, HandlerServiceTask),
    full_tag("startEvent"): (ClockedStartEventParser, StartEvent),
    full_tag("boundaryEvent"): (ClockedBoundaryEventParser, BoundaryEvent),
    full_tag("intermediateCatchEvent"): (ClockedIntermediateCatchEventParser, IntermediateCatchEvent),
}


class ClosedLoopParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = {tag: (_bounded_instances(parser), spec) for tag, (parser, spec) in _PARSERS.items()}

    def __init__(self) -> None:
        super().__init__(validator=VALIDATOR)

    def get_engine(self, decision_ref: str, node: _Element) -> BoundedDMNEngine:
        """SpiffWorkflow's DMN engine, with input entries substituted in linear time (engine.dmn_entries)."""
        return BoundedDMNEngine(super().get_engine(decision_ref, node).decision_table)

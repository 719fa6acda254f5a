"""SpiffWorkflow's converter registry, taught our own spec classes.

Task data and internal data may hold SpiffWorkflow objects (an event-based gateway remembers the
``BpmnEvent`` it saw); the registry turns them into JSON and back.  Our subclasses serialize exactly
like the classes they extend.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ParallelMultiInstanceTask, SequentialMultiInstanceTask

from .specs import (
    BoundedParallelMultiInstanceTask,
    BoundedSequentialMultiInstanceTask,
    ClockedCycle,
    ClockedDuration,
    ClockedTimeDate,
    HandlerServiceTask,
)

CONFIG: dict[type, Any] = {
    **SPIFF_CONFIG,
    HandlerServiceTask: ServiceTaskConverter,
    BoundedParallelMultiInstanceTask: SPIFF_CONFIG[ParallelMultiInstanceTask],
    BoundedSequentialMultiInstanceTask: SPIFF_CONFIG[SequentialMultiInstanceTask],
    ClockedTimeDate: TimerConditionalEventDefinitionConverter,
    ClockedDuration: TimerConditionalEventDefinitionConverter,
    ClockedCycle: TimerConditionalEventDefinitionConverter,
}
REGISTRY = BpmnWorkflowSerializer.configure(CONFIG)
SERIALIZER = BpmnWorkflowSerializer(registry=REGISTRY)

"""No call loops without bound, and a long loop through a person's task neither hangs nor ends early.

SpiffWorkflow 3.2.0 stops looking past depth 1,000 of the task tree and a user-task loop adds about three
levels per iteration: near iteration 333 the engine either stalled (``run_until_blocked`` spun forever
holding the instance lock) or declared the instance completed while its gateway was still ready.
"""

from __future__ import annotations

from typing import Any

from bench.engine import LOOP  # the benchmark's own loop: a user task, a gateway back while n < limit
from engine.errors import StepBudgetExceeded
from engine.handlers import HandlerRegistry
from engine.models import ProcessInstance
from engine.runtime import ProcessEngine
from engine.transitions import STEP_BUDGET

# The same loop without anyone to wait for: a script task instead of the user task.
SPIN = LOOP.replace(
    '<bpmn:userTask id="tick" name="Tick"/>',
    '<bpmn:scriptTask id="tick" name="Tick"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>',
)
# Past the old limit with room to spare: this diagram adds two levels per iteration (user task, gateway),
# so 3.2.0 lost sight of it at iteration 500 (bench/engine.py's false completion).  Each iteration is a
# real engine call with a save.  10,000 iterations: python -m bench.long_loop (bench/README.md).
ITERATIONS = 620


def engine_for(platform: Any, files: dict[str, str]) -> ProcessEngine:
    engine = ProcessEngine(platform.db, HandlerRegistry(), platform.engine.clock)
    with platform.db.session() as session:
        engine.deployments.deploy(session, files, "test")
    return engine


def test_a_user_task_loop_runs_past_the_depth_limit_and_ends_only_at_its_end(bare_platform: Any) -> None:
    engine = engine_for(bare_platform, {"loop.bpmn": LOOP})
    with bare_platform.db.session() as session:
        instance_id = engine.start(session, "loop", {"n": 0, "limit": ITERATIONS}, actor="test").id
    for n in range(1, ITERATIONS + 1):
        engine.advance(instance_id)
        with bare_platform.db.session() as session:
            ready = engine.ready_user_tasks(session, instance_ids=[instance_id])
            status = session.get(ProcessInstance, instance_id).status
            assert status != "completed", f"declared completed at iteration {n} with the loop still running"
            assert [t.spec_name for t in ready] == ["tick"], f"iteration {n}: {status}, ready {ready}"
            engine.complete_user_task(session, ready[0].id, {"n": n}, actor="test", instance_id=instance_id)
    engine.advance(instance_id)
    with bare_platform.db.session() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance.status == "completed", instance.error
        assert engine.ready_user_tasks(session, instance_ids=[instance_id]) == []


def test_a_loop_that_never_waits_stops_at_the_step_budget_with_an_error_naming_it(bare_platform: Any) -> None:
    engine = engine_for(bare_platform, {"spin.bpmn": SPIN})
    with bare_platform.db.session() as session:
        instance_id = engine.start(session, "loop", {"n": 0, "limit": 10**9}, actor="test").id
    assert engine.advance(instance_id) is False  # the step failed and was rolled back: nothing changed
    with bare_platform.db.session() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance.status != "completed"
        assert instance.status == "error"  # an incident, not a re-queue
        assert f"{STEP_BUDGET:,}" in instance.error["message"] and "step budget" in instance.error["message"]
        assert instance.error["element_id"] in ("tick", "again")


def test_the_step_budget_is_an_engine_error_that_names_its_limit() -> None:
    err = StepBudgetExceeded(STEP_BUDGET, "again")
    assert f"{STEP_BUDGET:,}" in str(err) and err.limit == STEP_BUDGET and err.element == "again"


def test_a_round_that_completes_nothing_while_engine_work_is_ready_stops_instead_of_spinning() -> None:
    """The progress guard of run_until_blocked: here the engine is made unable to run its ready task (as
    SpiffWorkflow was past depth 1,000); the call must end with an error naming the element, not spin."""
    from engine.clock import FrozenClock
    from engine.deployments import parse
    from engine.errors import EngineStalled
    from engine.scripting import StepScriptEngine
    from engine.transitions import new_workflow, run_until_blocked

    workflow = new_workflow(
        parse({"spin.bpmn": SPIN}, HandlerRegistry()),
        "loop",
        {"n": 0, "limit": 5},
        StepScriptEngine(HandlerRegistry(), FrozenClock()),
    )
    workflow.do_engine_steps = lambda **_: None  # a workflow whose engine steps never find the ready task
    try:
        run_until_blocked(workflow, lambda: None)
    except EngineStalled as err:
        assert err.elements and "ready but the engine cannot run" in str(err)
    else:
        raise AssertionError("run_until_blocked returned with engine work still ready")

"""The worker's sandbox refuses non-deterministic calls (what a faster runner would lose),
and its shortcut for serialization contexts answers what the stock sandbox answers."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker, WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import _runner as stock_runner

from tests.sandbox_workflows import ReadsTheClock, SleepsDeterministically
from worker import sandbox
from worker.registry import workflow_classes
from worker.sandbox import DirectContextSandboxedWorkflowRunner


async def _failed_task_message(client: Client, workflow_id: str) -> str | None:
    handle = client.get_workflow_handle(workflow_id)
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            return str(event.workflow_task_failed_event_attributes.failure.message)
    return None


async def test_a_workflow_reading_the_wall_clock_fails_its_task(temporal_client: Client) -> None:
    queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    workflow_id = f"sandbox-clock-{uuid.uuid4()}"
    async with Worker(
        temporal_client,
        task_queue=queue,
        workflows=[ReadsTheClock],
        workflow_runner=DirectContextSandboxedWorkflowRunner(),
    ):
        await temporal_client.start_workflow(ReadsTheClock.run, id=workflow_id, task_queue=queue)
        message = None
        async with asyncio.timeout(30):
            while message is None:
                message = await _failed_task_message(temporal_client, workflow_id)
                await asyncio.sleep(0.1)
        await temporal_client.get_workflow_handle(workflow_id).terminate("test over")
    assert "datetime.datetime.now" in message


async def test_a_deterministic_workflow_runs(temporal_client: Client) -> None:
    queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    async with Worker(
        temporal_client,
        task_queue=queue,
        workflows=[SleepsDeterministically],
        workflow_runner=DirectContextSandboxedWorkflowRunner(),
    ):
        result = await temporal_client.execute_workflow(
            SleepsDeterministically.run, id=f"sandbox-ok-{uuid.uuid4()}", task_queue=queue
        )
    assert result == "slept"


class _Compared(sandbox._Instance):
    """Answers through the shortcut, and records what the stock sandbox answers too."""

    answers: list[tuple[str, Any, Any]]

    def get_serialization_context(self, command_info: Any) -> Any:
        direct = super().get_serialization_context(command_info)
        stock = stock_runner._Instance.get_serialization_context(self, command_info)
        self.answers.append(("serialization", direct, stock))
        # The shortcut, not its fallback to the stock path, gave the answer:
        assert sandbox._IN_SANDBOX in self.globals_and_locals
        return direct

    def get_external_store_context(self, command_info: Any) -> Any:
        direct = super().get_external_store_context(command_info)
        stock = stock_runner._Instance.get_external_store_context(self, command_info)
        self.answers.append(("store", direct, stock))
        return direct


class _ComparingRunner(DirectContextSandboxedWorkflowRunner):
    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        instance = _Compared(det, self.runner_class, self.restrictions)
        instance.answers = ANSWERS
        return instance


ANSWERS: list[tuple[str, Any, Any]] = []
HISTORIES = sorted((Path(__file__).parent / "histories").glob("*/*.json"))


async def test_the_shortcut_answers_what_the_stock_sandbox_answers() -> None:
    """Over every recorded order history (activities, local activities, updates, timers):
    the same context for every payload, workflow and activity contexts among them."""
    ANSWERS.clear()
    replayer = Replayer(
        workflows=workflow_classes(),
        data_converter=pydantic_data_converter,
        workflow_runner=_ComparingRunner(),
    )
    for path in HISTORIES:
        history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))
        await replayer.replay_workflow(history)
    assert ANSWERS, "the SDK no longer asks the instance for contexts"
    assert [a for a in ANSWERS if a[1] != a[2]] == []
    kinds = {type(direct).__name__ for kind, direct, _ in ANSWERS if kind == "serialization"}
    assert {"WorkflowSerializationContext", "ActivitySerializationContext"} <= kinds

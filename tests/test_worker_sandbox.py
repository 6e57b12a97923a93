"""The worker's sandbox refuses non-deterministic calls (what a faster runner would lose)."""

from __future__ import annotations

import asyncio
import uuid

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

from tests.sandbox_workflows import ReadsTheClock, SleepsDeterministically
from worker.main import workflow_runner


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
        workflow_runner=workflow_runner(),
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
        workflow_runner=workflow_runner(),
    ):
        result = await temporal_client.execute_workflow(
            SleepsDeterministically.run, id=f"sandbox-ok-{uuid.uuid4()}", task_queue=queue
        )
    assert result == "slept"

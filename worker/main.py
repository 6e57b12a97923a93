"""The worker: every workflow and activity of the platform on one task queue."""

from __future__ import annotations

import asyncpg
import httpx
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from config.settings import Settings
from worker.registry import activities_for, workflow_classes


def workflow_runner() -> SandboxedWorkflowRunner:
    """The full sandbox: every workflow run re-imports the workflow modules, with the
    clock, randomness and I/O refused while it runs.

    Measured (benchmarks/README.md): re-importing costs about a tenth of the worker's
    CPU per order. Passing all modules through would save it, but then a workflow
    module's own ``datetime`` is the real one and ``datetime.now()`` is no longer
    refused (tests/test_worker_sandbox.py): not worth the orders' safety.
    """
    return SandboxedWorkflowRunner()


def build_worker(
    client: Client, pool: asyncpg.Pool, http: httpx.AsyncClient, settings: Settings
) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=workflow_classes(),
        workflow_runner=workflow_runner(),
        activities=activities_for(pool, http, settings),
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_concurrent_workflow_task_polls=settings.worker_workflow_pollers,
        max_concurrent_activity_task_polls=settings.worker_activity_pollers,
    )

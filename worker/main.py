"""The worker: every workflow and activity of the platform on one task queue."""

from __future__ import annotations

import asyncpg
import httpx
from temporalio.client import Client
from temporalio.worker import Worker

from config.settings import Settings
from worker.registry import activities_for, workflow_classes
from worker.sandbox import DirectContextSandboxedWorkflowRunner


def build_worker(
    client: Client, pool: asyncpg.Pool, http: httpx.AsyncClient, settings: Settings
) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=workflow_classes(),
        workflow_runner=DirectContextSandboxedWorkflowRunner(),
        activities=activities_for(pool, http, settings),
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_concurrent_workflow_task_polls=settings.worker_workflow_pollers,
        max_concurrent_activity_task_polls=settings.worker_activity_pollers,
    )

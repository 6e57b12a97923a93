"""What the worker runs. Each feature adds its workflows and activity classes here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import httpx

from activities.orders import OrderActivities
from config.settings import Settings
from provisioning.sandbox import SandboxBackend
from workflows.order import OrderWorkflow


def workflow_classes() -> Sequence[type]:
    return [OrderWorkflow]


def activities_for(
    pool: asyncpg.Pool, http: httpx.AsyncClient, settings: Settings
) -> Sequence[Callable[..., Any]]:
    backend = SandboxBackend(pool, settings.sandbox_latency_seconds, settings.sandbox_hang_seconds)
    orders = OrderActivities(pool, backend)
    return [
        orders.accept_order,
        orders.create_order,
        orders.allocate_resources,
        orders.provision_service,
        orders.change_bandwidth,
        orders.disconnect_service,
        orders.record_service,
        orders.compensate_order,
        orders.mark_step,
        orders.finish_order,
    ]

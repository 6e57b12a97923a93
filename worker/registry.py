"""What the worker runs. Each feature adds its workflows and activity classes here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import httpx

from activities.events import EventActivities, EventLog
from activities.orders import OrderActivities
from activities.webhooks import WebhookActivities
from config.settings import Settings
from provisioning.sandbox import SandboxBackend
from workflows.order import OrderWorkflow
from workflows.webhook_delivery import WebhookDeliveryWorkflow, WebhookTestWorkflow


def workflow_classes() -> Sequence[type]:
    return [OrderWorkflow, WebhookDeliveryWorkflow, WebhookTestWorkflow]


def activities_for(
    pool: asyncpg.Pool, http: httpx.AsyncClient, settings: Settings
) -> Sequence[Callable[..., Any]]:
    backend = SandboxBackend(pool, settings.sandbox_latency_seconds, settings.sandbox_hang_seconds)
    orders = OrderActivities(pool, backend, EventLog(settings.task_queue))
    order_events = EventActivities(pool, settings)
    deliveries = WebhookActivities(pool, http, settings)
    return [
        orders.accept_order,
        orders.create_order,
        orders.fulfil_order,
        orders.park_order,
        orders.allocate_resources,
        orders.provision_service,
        orders.change_bandwidth,
        orders.disconnect_service,
        orders.record_service,
        orders.compensate_order,
        orders.mark_step,
        orders.finish_order,
        orders.complete_order,
        orders.close_order,
        order_events.append_order_event,
        deliveries.fetch_batch,
        deliveries.deliver_event,
        deliveries.deliver_test,
    ]

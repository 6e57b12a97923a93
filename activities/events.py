"""Appending to the order event log, then waking the customer's webhook deliveries."""

from __future__ import annotations

import asyncpg
from temporalio import activity

from config.settings import Settings
from domain.events import AppendOrderEventInput, OrderEventRecord
from store import events, webhooks
from workflows.webhook_delivery import wake_subscription


class EventActivities:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self._pool = pool
        self._settings = settings

    @activity.defn(name="append_order_event")
    async def append_order_event(self, input: AppendOrderEventInput) -> OrderEventRecord:
        """Append once (idempotent on ``dedupe_key``) and signal-with-start the delivery
        workflow of each of the customer's active subscriptions that wants the event.

        A retry after a failed signal appends nothing new and signals again, so every
        subscription hears of every event at least once (and polls as a safety net).
        """
        async with self._pool.acquire() as conn, conn.transaction():
            record = await events.append_event(conn, input)
            # Read under the customer's append lock: a subscription created concurrently
            # either is seen here or starts its cursor after this event.
            subscriptions = await webhooks.active_for_customer(conn, input.customer_number)
        client = activity.client()
        for sub in subscriptions:
            if sub.event_types is None or record.event_type in sub.event_types:
                await wake_subscription(
                    client, self._settings.task_queue, sub.id, sub.customer_number, record.seq
                )
        return record

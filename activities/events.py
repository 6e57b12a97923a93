"""Appending to the order event log, then waking the customer's webhook deliveries."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from temporalio import activity

from config.settings import Settings
from domain.events import AppendOrderEventInput, OrderEventRecord
from store import events, webhooks
from store.conn import Conn
from store.webhooks import Subscription
from workflows.webhook_delivery import wake_subscription


@dataclass(frozen=True)
class AppendedEvent:
    """An event stored in a transaction, and the subscriptions to wake once it commits."""

    record: OrderEventRecord
    subscriptions: list[Subscription]


class EventLog:
    """Appends inside the caller's transaction; wakes the deliveries after the commit.

    A retry after a failed wake appends nothing new and wakes again, so every
    subscription hears of every event at least once (and polls as a safety net).
    """

    def __init__(self, task_queue: str) -> None:
        self._task_queue = task_queue

    async def append(self, conn: Conn, input: AppendOrderEventInput) -> AppendedEvent:
        record = await events.append_event(conn, input)
        # Read under the customer's append lock: a subscription created concurrently
        # either is seen here or starts its cursor after this event.
        subscriptions = await webhooks.active_for_customer(conn, input.customer_number)
        wanted = [
            s for s in subscriptions if s.event_types is None or record.event_type in s.event_types
        ]
        return AppendedEvent(record, wanted)

    async def wake(self, appended: AppendedEvent) -> None:
        """Signal-with-start the delivery workflow of each subscription that wants it."""
        if not appended.subscriptions:
            return
        client = activity.client()
        for sub in appended.subscriptions:
            await wake_subscription(
                client, self._task_queue, sub.id, sub.customer_number, appended.record.seq
            )


class EventActivities:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self._pool = pool
        self._log = EventLog(settings.task_queue)

    @activity.defn(name="append_order_event")
    async def append_order_event(self, input: AppendOrderEventInput) -> OrderEventRecord:
        """Append once (idempotent on ``dedupe_key``) and wake the customer's deliveries."""
        async with self._pool.acquire() as conn, conn.transaction():
            appended = await self._log.append(conn, input)
        await self._log.wake(appended)
        return appended.record

"""One long-lived workflow per webhook subscription: a cursor walking the event log.

Loop: fetch the next batch of the customer's events after the cursor (only refs; the
activity filters by the subscription's query), deliver them one at a time in log order
(each delivery is retried on the webhook schedule until the receiver answers 2xx, so a
later event is never sent before an earlier one is delivered), advance the cursor,
repeat. With nothing to do it sleeps until a ``wake`` signal (sent after every append)
or, as a safety net, the poll interval. ``redeliver`` moves the cursor back. A 410
from the receiver, or the subscription being disabled or deleted, ends the workflow;
continue-as-new bounds its history. Starting, waking and stopping it from outside:
the functions at the bottom (used by the API and the append activity).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.service import RPCError, RPCStatusCode

with workflow.unsafe.imports_passed_through():
    from activities.webhooks import WebhookActivities
    from domain.webhooks import (
        DeliverEventInput,
        DeliveryResult,
        FetchBatchInput,
        RedeliverSignal,
        SendTestInput,
        WakeSignal,
        WebhookDeliveryInput,
        WebhookDeliveryOutcome,
        delivery_workflow_id,
    )

BATCH_SIZE = 100
FETCH_TIMEOUT = timedelta(seconds=30)
# Reading our own database must eventually work: retry without limit.
FETCH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
# One HTTP attempt (settings.webhook_timeout_seconds) plus bookkeeping.
DELIVER_TIMEOUT = timedelta(seconds=90)
# Unlimited attempts: a receiver failure sets the next delay itself (the webhook
# schedule with jitter, over hours); this policy only paces infrastructure errors.
DELIVER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=0,
)
TEST_RETRY = RetryPolicy(maximum_attempts=1)
# Wake-up signals are the normal path; this poll only covers a lost signal.
POLL_INTERVAL = timedelta(minutes=5)


@workflow.defn(name="WebhookDeliveryWorkflow")
class WebhookDeliveryWorkflow:
    @workflow.init
    def __init__(self, input: WebhookDeliveryInput) -> None:
        self._input = input
        self._cursor = input.cursor_seq
        self._wakeups = 0
        self._rewind_to: int | None = None

    @workflow.signal(name="wake")
    def wake(self, signal: WakeSignal) -> None:
        self._wakeups += 1

    @workflow.signal(name="redeliver")
    def redeliver(self, signal: RedeliverSignal) -> None:
        if self._rewind_to is None or signal.after_seq < self._rewind_to:
            self._rewind_to = signal.after_seq
        self._wakeups += 1

    @workflow.query(name="cursor")
    def cursor(self) -> int | None:
        return self._cursor

    @workflow.run
    async def run(self, input: WebhookDeliveryInput) -> WebhookDeliveryOutcome:
        while True:
            self._apply_rewind()
            wakeups_seen = self._wakeups
            batch = await workflow.execute_activity_method(
                WebhookActivities.fetch_batch,
                FetchBatchInput(
                    subscription_id=input.subscription_id,
                    after_seq=self._cursor,
                    limit=BATCH_SIZE,
                ),
                start_to_close_timeout=FETCH_TIMEOUT,
                retry_policy=FETCH_RETRY,
            )
            if not batch.active:
                if self._rewind_to is not None:
                    continue  # re-enabled by a redelivery while we looked
                return WebhookDeliveryOutcome(reason="inactive", cursor_seq=self._cursor)
            self._cursor = batch.after_seq
            finished_batch = True
            for ref in batch.events:
                if self._rewind_to is not None:
                    finished_batch = False
                    break
                result = await self._deliver(ref.seq)
                if result.outcome != "delivered":
                    if self._rewind_to is not None:
                        finished_batch = False
                        break
                    reason = "gone" if result.outcome == "gone" else "inactive"
                    return WebhookDeliveryOutcome(reason=reason, cursor_seq=self._cursor)
                self._cursor = ref.seq
            if finished_batch:
                self._cursor = max(self._cursor, batch.scanned_to)
            if self._history_is_long():
                self._apply_rewind()
                workflow.continue_as_new(input.model_copy(update={"cursor_seq": self._cursor}))
            caught_up = batch.scanned_to == batch.after_seq
            if caught_up and self._rewind_to is None:
                await self._sleep_until_woken(wakeups_seen)

    async def _sleep_until_woken(self, wakeups_seen: int) -> None:
        try:
            await workflow.wait_condition(
                lambda: self._wakeups != wakeups_seen, timeout=POLL_INTERVAL
            )
        except TimeoutError:
            pass  # the periodic look, in case a wake-up signal was lost

    async def _deliver(self, seq: int) -> DeliveryResult:
        return await workflow.execute_activity_method(
            WebhookActivities.deliver_event,
            DeliverEventInput(subscription_id=self._input.subscription_id, seq=seq),
            start_to_close_timeout=DELIVER_TIMEOUT,
            retry_policy=DELIVER_RETRY,
        )

    def _apply_rewind(self) -> None:
        # With no cursor yet, the stored one applies: the API moved it back already
        # (never forward: earlier undelivered events stay due).
        if self._rewind_to is not None:
            if self._cursor is not None and self._rewind_to < self._cursor:
                self._cursor = self._rewind_to
            self._rewind_to = None

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._input.history_limit
        )


@workflow.defn(name="WebhookTestWorkflow")
class WebhookTestWorkflow:
    """Send one signed test event to a subscription's callback, once."""

    @workflow.run
    async def run(self, input: SendTestInput) -> DeliveryResult:
        return await workflow.execute_activity_method(
            WebhookActivities.deliver_test,
            input,
            start_to_close_timeout=DELIVER_TIMEOUT,
            retry_policy=TEST_RETRY,
        )


# --- used from outside workflows: the API and the append activity -----------------


async def wake_subscription(
    client: Client, task_queue: str, subscription_id: str, customer_number: str, seq: int
) -> None:
    """Signal-with-start: the subscription's workflow runs and looks for new events."""
    await client.start_workflow(
        WebhookDeliveryWorkflow.run,
        WebhookDeliveryInput(subscription_id=subscription_id, customer_number=customer_number),
        id=delivery_workflow_id(subscription_id),
        task_queue=task_queue,
        start_signal="wake",
        start_signal_args=[WakeSignal(seq=seq)],
    )


async def redeliver_subscription(
    client: Client, task_queue: str, subscription_id: str, customer_number: str, after_seq: int
) -> None:
    await client.start_workflow(
        WebhookDeliveryWorkflow.run,
        # Not started from after_seq: the stored cursor may be further back still.
        WebhookDeliveryInput(subscription_id=subscription_id, customer_number=customer_number),
        id=delivery_workflow_id(subscription_id),
        task_queue=task_queue,
        start_signal="redeliver",
        start_signal_args=[RedeliverSignal(after_seq=after_seq)],
    )


async def stop_subscription(client: Client, subscription_id: str) -> None:
    """Cancel the subscription's workflow, if it runs."""
    try:
        await client.get_workflow_handle(delivery_workflow_id(subscription_id)).cancel()
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise


async def send_test_event(
    client: Client, task_queue: str, input: SendTestInput, wait_seconds: float
) -> DeliveryResult | None:
    """Run the test delivery; None when it didn't finish within ``wait_seconds``."""
    handle = await client.start_workflow(
        WebhookTestWorkflow.run,
        input,
        id=f"webhook-test-{input.message_id}",
        task_queue=task_queue,
    )
    try:
        return await asyncio.wait_for(handle.result(), timeout=wait_seconds)
    except TimeoutError:
        return None

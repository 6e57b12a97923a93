"""Webhook delivery: read the next events of a subscription and POST them, signed.

A delivery that fails (not 2xx, timeout, refused connection) raises a retryable error
whose ``next_retry_delay`` follows ``settings.webhook_retry_schedule_seconds`` with
jitter, so Temporal retries the same event (same ``webhook-id``) until the receiver
takes it; 410 Gone disables the subscription instead. Every attempt is recorded. The
signing secret is read from the database here and never leaves this module: not in
workflow history, not in logs.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from config.settings import Settings
from domain.webhooks import (
    CallbackRejected,
    DeliverEventInput,
    DeliveryResult,
    EventBatch,
    EventRef,
    FetchBatchInput,
    SendTestInput,
    check_address,
    check_callback,
    order_webhook_event,
    ping_webhook_event,
    retry_delay,
    signature_headers,
    webhook_body,
)
from store import events, webhooks
from store.webhooks import DeliveryOutcome, DeliveryTarget

log = logging.getLogger(__name__)

USER_AGENT = "iod-webhooks/1.0"
MAX_ERROR_LENGTH = 300


async def check_callback_reachable(url: str, settings: Settings) -> None:
    """The URL's policy (see :func:`domain.webhooks.check_callback`) and, for a host name,
    every address it resolves to. Raises :class:`CallbackRejected`."""
    allow_private = settings.webhook_allow_private_targets
    target = check_callback(
        url, require_https=settings.webhook_require_https, allow_private=allow_private
    )
    if target.is_address:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            target.host, target.port, type=socket.SOCK_STREAM
        )
    except (socket.gaierror, UnicodeError):
        raise CallbackRejected(f"the callback host {target.host} could not be resolved") from None
    for info in infos:
        check_address(str(info[4][0]), allow_private=allow_private)


class _Attempt:
    def __init__(
        self, outcome: DeliveryOutcome, status: int | None, error: str | None, ms: int
    ) -> None:
        self.outcome: DeliveryOutcome = outcome
        self.status = status
        self.error = error
        self.duration_ms = ms


class WebhookActivities:
    def __init__(self, pool: asyncpg.Pool, http: httpx.AsyncClient, settings: Settings) -> None:
        self._pool = pool
        self._http = http
        self._settings = settings

    @activity.defn(name="fetch_webhook_batch")
    async def fetch_batch(self, input: FetchBatchInput) -> EventBatch:
        """The next events after the cursor that the subscription's query selects."""
        async with self._pool.acquire() as conn:
            sub = await webhooks.get_any(conn, input.subscription_id)
            if sub is None or sub.status != "active":
                after = input.after_seq if input.after_seq is not None else 0
                return EventBatch(active=False, after_seq=after, events=[], scanned_to=after)
            after = input.after_seq if input.after_seq is not None else sub.cursor_seq
            refs = await events.refs_after(conn, sub.customer_number, after, input.limit)
        wanted = sub.event_types
        return EventBatch(
            active=True,
            after_seq=after,
            events=[
                EventRef(seq=seq, event_id=event_id, event_type=event_type)
                for seq, event_id, event_type in refs
                if wanted is None or event_type in wanted
            ],
            scanned_to=refs[-1][0] if refs else after,
        )

    @activity.defn(name="deliver_webhook_event")
    async def deliver_event(self, input: DeliverEventInput) -> DeliveryResult:
        """POST one event; raises (to be retried on the schedule) until it is delivered."""
        async with self._pool.acquire() as conn:
            target = await webhooks.get_target(conn, input.subscription_id)
            if target is None or target.subscription.status != "active":
                return DeliveryResult(outcome="inactive")
            record = await events.get_by_seq(conn, target.subscription.customer_number, input.seq)
        if record is None:
            raise ApplicationError(
                f"event {input.seq} of the subscription's customer does not exist",
                type="EVENT_NOT_FOUND",
                non_retryable=True,
            )
        body = webhook_body(order_webhook_event(record, self._settings.public_base_url))
        attempt_no = activity.info().attempt
        attempt = await self._post(target, record.event_id, body)
        await self._record(target, record.event_id, input.seq, record.event_type, attempt)
        if attempt.outcome == "failed":
            delay = retry_delay(
                self._settings.webhook_retry_schedule_seconds, attempt_no, random.random()
            )
            raise ApplicationError(
                f"webhook delivery failed ({attempt.error}); retrying in {delay:.1f}s",
                type="WEBHOOK_DELIVERY_FAILED",
                next_retry_delay=timedelta(seconds=delay),
                category=ApplicationErrorCategory.BENIGN,
            )
        return DeliveryResult(outcome=attempt.outcome, status_code=attempt.status)

    @activity.defn(name="deliver_webhook_test")
    async def deliver_test(self, input: SendTestInput) -> DeliveryResult:
        """One signed test event, one attempt; the outcome is returned, not retried."""
        async with self._pool.acquire() as conn:
            target = await webhooks.get_target(conn, input.subscription_id)
        if target is None or target.subscription.status == "deleted":
            return DeliveryResult(outcome="inactive")
        event = ping_webhook_event(input.message_id, datetime.now(UTC))
        attempt = await self._post(target, input.message_id, webhook_body(event))
        await self._record(target, input.message_id, None, "TEST", attempt)
        return DeliveryResult(
            outcome=attempt.outcome, status_code=attempt.status, error=attempt.error
        )

    async def _post(self, target: DeliveryTarget, message_id: str, body: bytes) -> _Attempt:
        url = target.subscription.callback
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            await check_callback_reachable(url, self._settings)
        except CallbackRejected as err:
            return _Attempt("failed", None, f"callback refused: {err}", took())
        headers = signature_headers(
            target.secret.get_secret_value(), message_id, int(time.time()), body
        )
        headers["content-type"] = "application/json"
        headers["user-agent"] = USER_AGENT
        try:
            # Streamed and never read: a receiver can't make us buffer a huge answer.
            async with self._http.stream(
                "POST",
                url,
                content=body,
                headers=headers,
                timeout=self._settings.webhook_timeout_seconds,
                follow_redirects=False,
            ) as response:
                status = response.status_code
        except httpx.HTTPError as err:
            return _Attempt("failed", None, _describe(err, url), took())
        if 200 <= status < 300:
            return _Attempt("delivered", status, None, took())
        if status == 410:
            return _Attempt("gone", status, "the callback answered 410 Gone", took())
        return _Attempt("failed", status, f"the callback answered {status}", took())

    async def _record(
        self,
        target: DeliveryTarget,
        message_id: str,
        seq: int | None,
        event_type: str,
        attempt: _Attempt,
    ) -> None:
        sub = target.subscription
        info = activity.info()
        async with self._pool.acquire() as conn, conn.transaction():
            await webhooks.record_attempt(
                conn,
                subscription_id=sub.id,
                message_id=message_id,
                event_seq=seq,
                event_type=event_type,
                attempt=info.attempt,
                outcome=attempt.outcome,
                status_code=attempt.status,
                error=attempt.error,
                duration_ms=attempt.duration_ms,
            )
            if attempt.outcome == "gone":
                await webhooks.disable(conn, sub.id, "the callback answered 410 Gone")
        log.info(
            "webhook %s subscription=%s message=%s attempt=%d status=%s",
            attempt.outcome,
            sub.id,
            message_id,
            info.attempt,
            attempt.status,
        )


def _describe(err: Exception, url: str) -> str:
    """An error for the deliveries log; the callback URL (it may carry a token) is cut."""
    text = f"{type(err).__name__}: {err}".replace(url, "<callback>")
    return text[:MAX_ERROR_LENGTH]

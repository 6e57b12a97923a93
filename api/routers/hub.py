"""Webhook subscriptions (TMF hub style), delivered per Standard Webhooks.

`POST /hub {callback, query?}` → 201 with the subscription and its `whsec_` signing
secret, shown this once. Each subscription has its own delivery workflow that walks
the customer's order event log in order (see ``workflows/webhook_delivery.py``).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, Field
from temporalio.service import RPCError

from activities.webhooks import check_callback_reachable
from api.deps import PoolDep, PrincipalDep, SettingsDep, TemporalDep
from api.openapi import problems
from api.problems import ErrorItem, Problem, field_error, not_found
from domain.webhooks import (
    CallbackRejected,
    SendTestInput,
    WebhookEvent,
    new_secret,
    parse_query,
)
from store import events, webhooks
from store.webhooks import DeliveryAttempt, Subscription
from workflows.webhook_delivery import (
    redeliver_subscription,
    send_test_event,
    stop_subscription,
    wake_subscription,
)

log = logging.getLogger(__name__)

router = APIRouter(tags=["Notifications (webhooks)"])

HUB_PATH = "/hub"
MAX_SUBSCRIPTIONS = 25
MAX_DELIVERIES_PAGE = 1000


class HubSubscriptionInput(BaseModel):
    callback: str = Field(
        max_length=2000,
        description="Where events are POSTed. https (in production), and not a private, "
        "loopback or link-local address.",
        examples=["https://example.com/iod/webhooks"],
    )
    query: str | None = Field(
        default=None,
        max_length=1000,
        description="Optional filter on the order event type, e.g. "
        "`eventType=DONE_SUCCESS,DONE_FAILED`. Without it: every order event.",
    )


class HubSubscription(BaseModel):
    id: str
    href: str
    callback: str
    query: str | None
    status: Literal["active", "disabled"] = Field(
        description="`disabled` after the callback answered 410 Gone; redeliver re-enables"
    )
    disabledReason: str | None = None
    createdAt: datetime


class HubSubscriptionCreated(HubSubscription):
    secret: str = Field(
        description="The `whsec_` secret to verify `webhook-signature` with. Shown only "
        "in this response: store it."
    )


class WebhookDeliveryView(BaseModel):
    """One delivery attempt."""

    id: int
    eventId: str = Field(description="The `webhook-id` sent (the event id)")
    eventType: str = Field(description="The order event type; TEST for test events")
    attempt: int
    attemptedAt: datetime
    outcome: Literal["delivered", "failed", "gone"]
    statusCode: int | None = Field(description="The callback's HTTP status, if it answered")
    error: str | None
    durationMs: int


class RedeliveryAccepted(BaseModel):
    subscriptionId: str
    since: str | None = Field(description="Events after this one are delivered again")
    status: Literal["accepted"] = "accepted"


class TestDelivery(BaseModel):
    eventId: str
    outcome: Literal["delivered", "failed", "gone", "pending"] = Field(
        description="`pending`: no answer within the callback timeout yet; see deliveries"
    )
    statusCode: int | None = None
    error: str | None = None


# Documents (in OpenAPI `callbacks`) the request each subscription's callback receives.
notifications = APIRouter()


@notifications.post(
    "{$request.body#/callback}",
    summary="Order event notification (sent to your callback)",
    status_code=204,
)
def order_event_notification(
    body: WebhookEvent,
    webhook_id: Annotated[str, Header(alias="webhook-id")],
    webhook_timestamp: Annotated[str, Header(alias="webhook-timestamp")],
    webhook_signature: Annotated[str, Header(alias="webhook-signature")],
) -> None:
    """Verify `webhook-signature` (Standard Webhooks, e.g. with the `standardwebhooks`
    package and your `whsec_` secret), store the event, answer 2xx. Duplicates (same
    `webhook-id`) can occur: deliveries are at least once."""


def _view(sub: Subscription) -> HubSubscription:
    assert sub.status != "deleted"
    return HubSubscription(
        id=sub.id,
        href=f"{HUB_PATH}/{sub.id}",
        callback=sub.callback,
        query=sub.query,
        status=sub.status,
        disabledReason=sub.disabled_reason,
        createdAt=sub.created_at,
    )


async def _own(pool: PoolDep, customer_number: str, subscription_id: str) -> Subscription:
    async with pool.acquire() as conn:
        sub = await webhooks.get_subscription(conn, customer_number, subscription_id)
    if sub is None:
        raise not_found(f"subscription {subscription_id[:100]}", "id")
    return sub


@router.post(
    HUB_PATH,
    status_code=201,
    summary="Subscribe to order events",
    callbacks=notifications.routes,
    responses={
        201: {"headers": {"Location": {"description": "The subscription"}}},
        **problems(
            {
                400: "Bad `callback` or `query`",
                409: f"Already {MAX_SUBSCRIPTIONS} subscriptions: delete one first",
            }
        ),
    },
)
async def create_subscription(
    body: HubSubscriptionInput,
    principal: PrincipalDep,
    pool: PoolDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    response: Response,
) -> HubSubscriptionCreated:
    """Events that happen from now on are POSTed to `callback`, in order, signed with the
    returned secret, and retried until delivered."""
    callback = body.callback.strip()
    try:
        await check_callback_reachable(callback, settings)
    except CallbackRejected as err:
        raise field_error(400, "callback", "invalid_callback", str(err)) from None
    try:
        event_types = parse_query(body.query)
    except ValueError as err:
        raise field_error(400, "query", "invalid_query", str(err)) from None
    customer = principal.customer_number
    secret = new_secret()
    async with pool.acquire() as conn, conn.transaction():
        # Under the customer's append lock: the cursor is exactly "after every event
        # committed so far", and appends from now on see this subscription.
        await events.lock_customer(conn, customer)
        if len(await webhooks.list_subscriptions(conn, customer)) >= MAX_SUBSCRIPTIONS:
            raise Problem(
                409,
                f"A customer may have at most {MAX_SUBSCRIPTIONS} subscriptions",
                errors=[
                    ErrorItem(
                        code="too_many_subscriptions",
                        message="delete a subscription first",
                        field="callback",
                    )
                ],
            )
        sub = await webhooks.create_subscription(
            conn,
            customer_number=customer,
            callback=callback,
            query=body.query,
            event_types=event_types,
            secret=secret,
            cursor_seq=await events.max_seq(conn, customer),
        )
    try:
        await wake_subscription(temporal, settings.task_queue, sub.id, customer, sub.cursor_seq)
    except RPCError as err:
        # Not fatal: the next appended event signal-with-starts the workflow.
        log.warning("webhook workflow of %s not started yet: %s", sub.id, err.message)
    response.headers["Location"] = f"{HUB_PATH}/{sub.id}"
    return HubSubscriptionCreated(**_view(sub).model_dump(), secret=secret)


@router.get(HUB_PATH, summary="List your subscriptions")
async def list_subscriptions(principal: PrincipalDep, pool: PoolDep) -> list[HubSubscription]:
    async with pool.acquire() as conn:
        subs = await webhooks.list_subscriptions(conn, principal.customer_number)
    return [_view(s) for s in subs]


_NO_SUBSCRIPTION = problems({404: "No subscription of yours with that id"})


@router.get(f"{HUB_PATH}/{{id}}", summary="Show a subscription", responses=_NO_SUBSCRIPTION)
async def get_subscription(id: str, principal: PrincipalDep, pool: PoolDep) -> HubSubscription:
    return _view(await _own(pool, principal.customer_number, id))


@router.delete(
    f"{HUB_PATH}/{{id}}", status_code=204, summary="Unsubscribe", responses=_NO_SUBSCRIPTION
)
async def delete_subscription(
    id: str, principal: PrincipalDep, pool: PoolDep, temporal: TemporalDep
) -> Response:
    """Deliveries stop and the secret is forgotten."""
    async with pool.acquire() as conn:
        deleted = await webhooks.delete_subscription(conn, principal.customer_number, id)
    if not deleted:
        raise not_found(f"subscription {id[:100]}", "id")
    try:
        await stop_subscription(temporal, id)
    except RPCError as err:
        # Not fatal: the workflow also ends when it next finds the subscription deleted.
        log.warning("webhook workflow of %s not cancelled: %s", id, err.message)
    return Response(status_code=204)


@router.get(
    f"{HUB_PATH}/{{id}}/deliveries",
    summary="Delivery attempts and their outcomes",
    responses=_NO_SUBSCRIPTION,
)
async def list_deliveries(
    id: str,
    principal: PrincipalDep,
    pool: PoolDep,
    limit: Annotated[int, Query(ge=1, le=MAX_DELIVERIES_PAGE)] = 100,
    eventId: Annotated[str | None, Query(max_length=100)] = None,
) -> list[WebhookDeliveryView]:
    """Newest first; optionally only the attempts of one event."""
    sub = await _own(pool, principal.customer_number, id)
    async with pool.acquire() as conn:
        attempts = await webhooks.list_deliveries(conn, sub.id, limit=limit, message_id=eventId)
    return [_delivery_view(a) for a in attempts]


def _delivery_view(a: DeliveryAttempt) -> WebhookDeliveryView:
    return WebhookDeliveryView(
        id=a.id,
        eventId=a.message_id,
        eventType=a.event_type,
        attempt=a.attempt,
        attemptedAt=a.attempted_at,
        outcome=a.outcome,
        statusCode=a.status_code,
        error=a.error,
        durationMs=a.duration_ms,
    )


@router.post(
    f"{HUB_PATH}/{{id}}/redeliver",
    status_code=202,
    summary="Deliver events again",
    responses=problems({400: "Unknown `since`", 404: "No subscription of yours with that id"}),
)
async def redeliver(
    id: str,
    principal: PrincipalDep,
    pool: PoolDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    since: Annotated[
        str | None,
        Query(description="Deliver again every event after this one; none: all events"),
    ] = None,
) -> RedeliveryAccepted:
    """Events after `since` are delivered again, in order (with their original
    `webhook-id`). Re-enables a subscription disabled by a 410."""
    customer = principal.customer_number
    sub = await _own(pool, customer, id)
    async with pool.acquire() as conn, conn.transaction():
        after_seq = 0
        if since is not None:
            found = await events.find_seq(conn, customer, since)
            if found is None:
                raise field_error(400, "since", "unknown_event", f"unknown event {since[:100]}")
            after_seq = found
        rewound = await webhooks.rewind(conn, customer, sub.id, after_seq)
    if rewound is None:
        raise not_found(f"subscription {id[:100]}", "id")
    await redeliver_subscription(temporal, settings.task_queue, sub.id, customer, after_seq)
    return RedeliveryAccepted(subscriptionId=sub.id, since=since)


@router.post(
    f"{HUB_PATH}/{{id}}/test", summary="Send a signed test event", responses=_NO_SUBSCRIPTION
)
async def send_test(
    id: str,
    principal: PrincipalDep,
    pool: PoolDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> TestDelivery:
    """POSTs a `WebhookTestEvent` (signed like every event) once and reports the answer;
    it is listed among the deliveries too. Order events are not affected."""
    sub = await _own(pool, principal.customer_number, id)
    message_id = f"test_{uuid.uuid4().hex}"
    result = await send_test_event(
        temporal,
        settings.task_queue,
        SendTestInput(subscription_id=sub.id, message_id=message_id),
        wait_seconds=settings.webhook_timeout_seconds + 10,
    )
    if result is None:
        return TestDelivery(eventId=message_id, outcome="pending")
    if result.outcome == "inactive":
        raise not_found(f"subscription {id[:100]}", "id")
    return TestDelivery(
        eventId=message_id,
        outcome=result.outcome,
        statusCode=result.status_code,
        error=result.error,
    )

"""Webhook subscriptions (per customer) and their delivery attempts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, SecretStr

from store.conn import Conn

SubscriptionStatus = Literal["active", "disabled", "deleted"]
DeliveryOutcome = Literal["delivered", "failed", "gone"]

_SUB_COLUMNS = (
    "id::text AS id, customer_number, callback, query, event_types, status, disabled_reason,"
    " cursor_seq, created_at, updated_at"
)
_DELIVERY_COLUMNS = (
    "id, subscription_id::text AS subscription_id, message_id, event_seq, event_type, attempt,"
    " attempted_at, outcome, status_code, error, duration_ms"
)


class Subscription(BaseModel):
    id: str
    customer_number: str
    callback: str
    query: str | None
    event_types: list[str] | None
    status: SubscriptionStatus
    disabled_reason: str | None
    cursor_seq: int
    created_at: datetime
    updated_at: datetime


class DeliveryTarget(BaseModel):
    """A subscription with its signing secret: only for the delivery activity."""

    subscription: Subscription
    secret: SecretStr  # SecretStr: never shown by repr or logs


class DeliveryAttempt(BaseModel):
    id: int
    subscription_id: str
    message_id: str
    event_seq: int | None
    event_type: str
    attempt: int
    attempted_at: datetime
    outcome: DeliveryOutcome
    status_code: int | None
    error: str | None
    duration_ms: int


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def create_subscription(
    conn: Conn,
    *,
    customer_number: str,
    callback: str,
    query: str | None,
    event_types: list[str] | None,
    secret: str,
    cursor_seq: int,
) -> Subscription:
    row = await conn.fetchrow(
        "INSERT INTO webhook_subscriptions"
        " (id, customer_number, callback, query, event_types, secret, cursor_seq)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_SUB_COLUMNS}",
        uuid.uuid4(),
        customer_number,
        callback,
        query,
        event_types,
        secret,
        cursor_seq,
    )
    assert row is not None
    return Subscription.model_validate(dict(row))


async def list_subscriptions(conn: Conn, customer_number: str) -> list[Subscription]:
    rows = await conn.fetch(
        f"SELECT {_SUB_COLUMNS} FROM webhook_subscriptions"
        " WHERE customer_number = $1 AND status <> 'deleted' ORDER BY created_at, id",
        customer_number,
    )
    return [Subscription.model_validate(dict(r)) for r in rows]


async def get_subscription(
    conn: Conn, customer_number: str, subscription_id: str
) -> Subscription | None:
    """One of the customer's (not deleted) subscriptions; None for anyone else's."""
    parsed = _uuid(subscription_id)
    if parsed is None:
        return None
    row = await conn.fetchrow(
        f"SELECT {_SUB_COLUMNS} FROM webhook_subscriptions"
        " WHERE id = $1 AND customer_number = $2 AND status <> 'deleted'",
        parsed,
        customer_number,
    )
    return Subscription.model_validate(dict(row)) if row else None


async def get_any(conn: Conn, subscription_id: str) -> Subscription | None:
    parsed = _uuid(subscription_id)
    if parsed is None:
        return None
    row = await conn.fetchrow(
        f"SELECT {_SUB_COLUMNS} FROM webhook_subscriptions WHERE id = $1", parsed
    )
    return Subscription.model_validate(dict(row)) if row else None


async def get_target(conn: Conn, subscription_id: str) -> DeliveryTarget | None:
    parsed = _uuid(subscription_id)
    if parsed is None:
        return None
    row = await conn.fetchrow(
        f"SELECT {_SUB_COLUMNS}, secret FROM webhook_subscriptions WHERE id = $1", parsed
    )
    if row is None:
        return None
    data = dict(row)
    secret = data.pop("secret") or ""
    return DeliveryTarget(subscription=Subscription.model_validate(data), secret=SecretStr(secret))


async def active_for_customer(conn: Conn, customer_number: str) -> list[Subscription]:
    rows = await conn.fetch(
        f"SELECT {_SUB_COLUMNS} FROM webhook_subscriptions"
        " WHERE customer_number = $1 AND status = 'active'",
        customer_number,
    )
    return [Subscription.model_validate(dict(r)) for r in rows]


async def delete_subscription(conn: Conn, customer_number: str, subscription_id: str) -> bool:
    """Marks it deleted and forgets the secret; deliveries stop."""
    parsed = _uuid(subscription_id)
    if parsed is None:
        return False
    done = await conn.fetchval(
        "UPDATE webhook_subscriptions SET status = 'deleted', secret = NULL, updated_at = now()"
        " WHERE id = $1 AND customer_number = $2 AND status <> 'deleted' RETURNING 1",
        parsed,
        customer_number,
    )
    return done is not None


async def disable(conn: Conn, subscription_id: str, reason: str) -> None:
    await conn.execute(
        "UPDATE webhook_subscriptions SET status = 'disabled', disabled_reason = $2,"
        " updated_at = now() WHERE id = $1 AND status = 'active'",
        uuid.UUID(subscription_id),
        reason,
    )


async def rewind(
    conn: Conn, customer_number: str, subscription_id: str, after_seq: int
) -> Subscription | None:
    """Redeliver everything after ``after_seq``; re-enables a disabled subscription."""
    parsed = _uuid(subscription_id)
    if parsed is None:
        return None
    row = await conn.fetchrow(
        "UPDATE webhook_subscriptions SET status = 'active', disabled_reason = NULL,"
        " cursor_seq = LEAST(cursor_seq, $3), updated_at = now()"
        f" WHERE id = $1 AND customer_number = $2 AND status <> 'deleted' RETURNING {_SUB_COLUMNS}",
        parsed,
        customer_number,
        after_seq,
    )
    return Subscription.model_validate(dict(row)) if row else None


async def record_attempt(
    conn: Conn,
    *,
    subscription_id: str,
    message_id: str,
    event_seq: int | None,
    event_type: str,
    attempt: int,
    outcome: DeliveryOutcome,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
) -> None:
    """Log one attempt; a delivered event also moves the subscription's cursor to it."""
    parsed = uuid.UUID(subscription_id)
    await conn.execute(
        "INSERT INTO webhook_deliveries (subscription_id, message_id, event_seq, event_type,"
        " attempt, outcome, status_code, error, duration_ms)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        parsed,
        message_id,
        event_seq,
        event_type,
        attempt,
        outcome,
        status_code,
        error,
        duration_ms,
    )
    if outcome == "delivered" and event_seq is not None:
        await conn.execute(
            "UPDATE webhook_subscriptions SET cursor_seq = $2, updated_at = now()"
            " WHERE id = $1 AND status = 'active'",
            parsed,
            event_seq,
        )


async def list_deliveries(
    conn: Conn,
    subscription_id: str,
    *,
    limit: int,
    message_id: str | None = None,
) -> list[DeliveryAttempt]:
    """Attempts, newest first."""
    rows = await conn.fetch(
        f"SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries WHERE subscription_id = $1"
        " AND ($2::text IS NULL OR message_id = $2) ORDER BY id DESC LIMIT $3",
        uuid.UUID(subscription_id),
        message_id,
        limit,
    )
    return [DeliveryAttempt.model_validate(dict(r)) for r in rows]

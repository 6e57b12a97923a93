"""Order requests: intake records and the status read model the activities keep."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from domain.orders import OrderState
from store.conn import Conn


class OrderRequestRow(BaseModel):
    id: str
    customer_number: str
    external_id: str
    idempotency_key: str | None
    action: str
    channel: str
    body: dict[str, Any]
    request_hash: str
    quote_id: str | None
    target_service_id: str | None
    access_id: str | None
    state: OrderState
    step: str
    step_message: str
    order_number: str | None
    service_id: str | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime


class NewOrderRequest(BaseModel):
    id: str
    customer_number: str
    external_id: str
    idempotency_key: str | None
    action: str
    channel: str
    body: dict[str, Any]
    request_hash: str
    quote_id: str | None
    target_service_id: str | None
    access_id: str | None = None


_COLUMNS = (
    "id::text AS id, customer_number, external_id, idempotency_key, action, channel, body,"
    " request_hash, quote_id, target_service_id, access_id, state, step, step_message,"
    " order_number, service_id, error_code, error_message, created_at, started_at,"
    " completed_at, updated_at"
)


def _row(record: asyncpg.Record | None) -> OrderRequestRow | None:
    return OrderRequestRow(**dict(record)) if record is not None else None


async def claim(conn: Conn, new: NewOrderRequest) -> tuple[OrderRequestRow, bool]:
    """Insert ``new`` unless the customer already sent this idempotency key or externalId.

    Returns the stored row and whether it is the new one. Concurrent identical requests
    all get the same row: the unique indexes decide, not a read-then-write.
    """
    inserted = await conn.fetchrow(
        f"INSERT INTO order_requests (id, customer_number, external_id, idempotency_key, action,"
        f" channel, body, request_hash, quote_id, target_service_id, access_id)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        f" ON CONFLICT DO NOTHING RETURNING {_COLUMNS}",
        UUID(new.id),
        new.customer_number,
        new.external_id,
        new.idempotency_key,
        new.action,
        new.channel,
        new.body,
        new.request_hash,
        new.quote_id,
        new.target_service_id,
        new.access_id,
    )
    if inserted is not None:
        return OrderRequestRow(**dict(inserted)), True
    existing = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM order_requests WHERE customer_number = $1"
        f" AND (external_id = $2 OR ($3::text IS NOT NULL AND idempotency_key = $3))"
        f" ORDER BY (idempotency_key IS NOT DISTINCT FROM $3) DESC LIMIT 1",
        new.customer_number,
        new.external_id,
        new.idempotency_key,
    )
    if existing is None:  # the conflicting row was deleted in between: try once more
        return await claim(conn, new)
    return OrderRequestRow(**dict(existing)), False


async def get_for_customer(
    conn: Conn, customer_number: str, order_request_id: str
) -> OrderRequestRow | None:
    """The customer's own order, never a PENDING one (it was not accepted yet)."""
    try:
        key = UUID(order_request_id)
    except ValueError:
        return None
    return _row(
        await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM order_requests"
            f" WHERE id = $1 AND customer_number = $2 AND state <> 'PENDING'",
            key,
            customer_number,
        )
    )


async def get(conn: Conn, order_request_id: str) -> OrderRequestRow | None:
    return _row(
        await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM order_requests WHERE id = $1", UUID(order_request_id)
        )
    )


async def forget_pending(conn: Conn, order_request_id: str) -> None:
    """Drop an intake record whose order was refused, so the client may submit again."""
    await conn.execute(
        "DELETE FROM order_requests WHERE id = $1 AND state = 'PENDING'", UUID(order_request_id)
    )


async def mark_running(conn: Conn, order_request_id: str) -> None:
    await conn.execute(
        "UPDATE order_requests SET state = 'RUNNING', step = 'accepted', started_at = now(),"
        " updated_at = now() WHERE id = $1 AND state = 'PENDING'",
        UUID(order_request_id),
    )


# Every update of a running order says ``state = 'RUNNING'``: a late attempt of a step
# (after the order was cancelled, say) can never change a finished order, which the API
# relies on to keep finished orders in memory (api/finished_orders.py).


async def set_step(conn: Conn, order_request_id: str, step: str, message: str = "") -> None:
    await conn.execute(
        "UPDATE order_requests SET step = $2, step_message = $3, updated_at = now()"
        " WHERE id = $1 AND state = 'RUNNING'",
        UUID(order_request_id),
        step,
        message,
    )


async def set_order_number(conn: Conn, order_request_id: str, order_number: str) -> None:
    await conn.execute(
        "UPDATE order_requests SET order_number = $2, step = 'order created', step_message = '',"
        " updated_at = now() WHERE id = $1 AND state = 'RUNNING'",
        UUID(order_request_id),
        order_number,
    )


async def set_service_id(conn: Conn, order_request_id: str, service_id: str) -> None:
    await conn.execute(
        "UPDATE order_requests SET service_id = $2, updated_at = now()"
        " WHERE id = $1 AND state = 'RUNNING'",
        UUID(order_request_id),
        service_id,
    )


async def finish(
    conn: Conn,
    order_request_id: str,
    state: OrderState,
    error_code: str | None,
    error_message: str | None,
    service_id: str | None = None,
) -> None:
    """Record the terminal state once (with the service, when the order made one known);
    a terminal state never changes afterwards."""
    await conn.execute(
        "UPDATE order_requests SET state = $2, step = 'completed', step_message = '',"
        " error_code = $3, error_message = $4, service_id = coalesce($5, service_id),"
        " completed_at = now(), updated_at = now()"
        " WHERE id = $1 AND state IN ('PENDING', 'RUNNING')",
        UUID(order_request_id),
        state.value,
        error_code,
        error_message,
        service_id,
    )


async def order_number(conn: Conn, order_request_id: str) -> str | None:
    """The orderId the provider gave the order, once it placed it."""
    number: str | None = await conn.fetchval(
        "SELECT order_number FROM order_requests WHERE id = $1", UUID(order_request_id)
    )
    return number


async def latest_for_access(
    conn: Conn, customer_number: str, access_id: str
) -> OrderRequestRow | None:
    """The newest accepted Service Activation order for this access of the customer."""
    return _row(
        await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM order_requests WHERE customer_number = $1 AND access_id = $2"
            f" AND state <> 'PENDING' ORDER BY created_at DESC LIMIT 1",
            customer_number,
            access_id,
        )
    )


async def other_open_order_for_access(
    conn: Conn, customer_number: str, access_id: str, order_request_id: str
) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM order_requests WHERE customer_number = $1 AND access_id = $2"
        " AND state = 'RUNNING' AND id <> $3 LIMIT 1",
        customer_number,
        access_id,
        UUID(order_request_id),
    )
    return found is not None

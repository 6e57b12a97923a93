"""Promoting a quote to an order: single use, checked and consumed in one transaction."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from store.conn import Conn


class LockedQuote(BaseModel):
    id: str
    customer_number: str
    master_site_id: str
    speed: str
    hourly_rate: Decimal
    expires_at: datetime
    consumed_by: str | None


async def lock(conn: Conn, quote_id: str) -> LockedQuote | None:
    row = await conn.fetchrow(
        "SELECT id, customer_number, master_site_id, speed, hourly_rate, expires_at, consumed_by"
        " FROM quotes WHERE id = $1 FOR UPDATE",
        quote_id,
    )
    return LockedQuote(**dict(row)) if row else None


async def consume(conn: Conn, quote_id: str, order_request_id: str) -> None:
    await conn.execute(
        "UPDATE quotes SET consumed_by = $2, consumed_at = now() WHERE id = $1",
        quote_id,
        order_request_id,
    )

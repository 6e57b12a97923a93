"""Quotes (``NaaS-<n>``): a priced request for one speed at one site, valid for a while."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
from pydantic import BaseModel

from store.conn import Conn


class NewQuote(BaseModel):
    customer_number: str
    master_site_id: str
    partner_id: str
    product_code: str
    speed: str
    currency_code: str
    hourly_rate: Decimal
    monthly_rate: Decimal
    price_request: dict[str, Any]


class Quote(BaseModel):
    id: str
    customer_number: str
    master_site_id: str
    partner_id: str
    product_code: str
    speed: str
    currency_code: str
    hourly_rate: Decimal
    monthly_rate: Decimal
    price_request: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    consumed_by: str | None = None
    consumed_at: datetime | None = None


# price_request travels as text, so these work with or without a JSON codec on the connection.
_COLUMNS = (
    "id, customer_number, master_site_id, partner_id, product_code, speed, currency_code,"
    " hourly_rate, monthly_rate, price_request::text AS price_request, created_at, expires_at,"
    " consumed_by, consumed_at"
)


def _quote(row: asyncpg.Record) -> Quote:
    fields = dict(row)
    fields["price_request"] = json.loads(fields["price_request"])
    return Quote(**fields)


async def create_quote(conn: Conn, new: NewQuote, ttl_seconds: int) -> Quote:
    """Store the quote with a fresh id; it expires ``ttl_seconds`` from now (database time)."""
    row = await conn.fetchrow(
        "INSERT INTO quotes (customer_number, master_site_id, partner_id, product_code, speed,"
        " currency_code, hourly_rate, monthly_rate, price_request, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::json,"
        " now() + make_interval(secs => $10))"
        f" RETURNING {_COLUMNS}",
        new.customer_number,
        new.master_site_id,
        new.partner_id,
        new.product_code,
        new.speed,
        new.currency_code,
        new.hourly_rate,
        new.monthly_rate,
        json.dumps(new.price_request),
        float(ttl_seconds),
    )
    assert row is not None
    return _quote(row)


async def get_quote(conn: Conn, quote_id: str) -> Quote | None:
    """Any customer's quote: callers check ``customer_number`` (or use :func:`get_own_quote`)."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM quotes WHERE id = $1", quote_id)
    return _quote(row) if row else None


async def get_own_quote(conn: Conn, customer_number: str, quote_id: str) -> Quote | None:
    """The quote when it belongs to this customer; another customer's is reported as absent."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM quotes WHERE id = $1 AND customer_number = $2",
        quote_id,
        customer_number,
    )
    return _quote(row) if row else None

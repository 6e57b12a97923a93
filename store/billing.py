"""Customers' billing accounts. Every read is scoped to one customer."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from domain.catalog import PageRequest
from store.conn import Conn


class BillingAccount(BaseModel):
    id: str
    customer_number: str
    name: str
    invoice_display_number: str
    street_address: str
    city: str
    state_or_province: str | None = None
    country: str
    postcode: str | None = None
    currency: str
    country_code: str
    hq_country: str
    entitled: bool = True


class AccountFilter(BaseModel):
    """Optional filters of the listing; ``None`` means any."""

    entitled: bool | None = None
    country_code: str | None = None
    currency: str | None = None


_FIELDS = (
    "id",
    "customer_number",
    "name",
    "invoice_display_number",
    "street_address",
    "city",
    "state_or_province",
    "country",
    "postcode",
    "currency",
    "country_code",
    "hq_country",
    "entitled",
)
_COLUMNS = ", ".join(_FIELDS)
_WHERE = (
    " WHERE customer_number = $1"
    " AND ($2::boolean IS NULL OR entitled = $2)"
    " AND ($3::text IS NULL OR country_code = $3)"
    " AND ($4::text IS NULL OR currency = $4)"
)


async def list_billing_accounts(
    conn: Conn, customer_number: str, filters: AccountFilter, page: PageRequest
) -> tuple[list[BillingAccount], int]:
    """One page of the customer's accounts (by id) matching the filters, and their total."""
    args = (customer_number, filters.entitled, filters.country_code, filters.currency)
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM billing_accounts{_WHERE} ORDER BY id LIMIT $5 OFFSET $6",
        *args,
        page.limit,
        page.offset,
    )
    total = await conn.fetchval(f"SELECT count(*) FROM billing_accounts{_WHERE}", *args)
    return [BillingAccount(**dict(r)) for r in rows], int(total)


async def get_billing_account(
    conn: Conn, customer_number: str, account_id: str
) -> BillingAccount | None:
    """The account when it is this customer's; another customer's is reported as absent."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM billing_accounts WHERE customer_number = $1 AND id = $2",
        customer_number,
        account_id,
    )
    return BillingAccount(**dict(row)) if row else None


async def get_default_us_account(conn: Conn, customer_number: str) -> BillingAccount | None:
    """The account to bill when the caller names none: entitled, headquartered in the US,
    paying in USD; the lowest id of those."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM billing_accounts WHERE customer_number = $1"
        " AND entitled AND hq_country = 'US' AND currency = 'USD' ORDER BY id LIMIT 1",
        customer_number,
    )
    return BillingAccount(**dict(row)) if row else None


async def upsert_billing_accounts(conn: Conn, accounts: Sequence[BillingAccount]) -> None:
    types = {"entitled": "boolean[]"}
    unnest = ", ".join(f"${i}::{types.get(c, 'text[]')}" for i, c in enumerate(_FIELDS, 1))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _FIELDS if c != "id")
    await conn.execute(
        f"INSERT INTO billing_accounts ({_COLUMNS}) SELECT * FROM unnest({unnest})"
        f" ON CONFLICT (id) DO UPDATE SET {updates}",
        *([getattr(a, c) for a in accounts] for c in _FIELDS),
    )

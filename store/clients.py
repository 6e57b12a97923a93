"""Customers, API clients and access tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from store.conn import Conn


class ApiClient(BaseModel):
    client_id: str
    customer_number: str
    secret_hash: str


class TokenOwner(BaseModel):
    client_id: str
    customer_number: str
    expires_at: datetime


async def upsert_customer(conn: Conn, customer_number: str, name: str) -> None:
    await conn.execute(
        "INSERT INTO customers (customer_number, name) VALUES ($1, $2)"
        " ON CONFLICT (customer_number) DO UPDATE SET name = EXCLUDED.name",
        customer_number,
        name,
    )


async def customer_exists(conn: Conn, customer_number: str) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM customers WHERE customer_number = $1", customer_number
    )
    return found is not None


async def upsert_client(conn: Conn, client_id: str, customer_number: str, secret_hash: str) -> None:
    await conn.execute(
        "INSERT INTO api_clients (client_id, customer_number, secret_hash) VALUES ($1, $2, $3)"
        " ON CONFLICT (client_id) DO UPDATE"
        " SET customer_number = EXCLUDED.customer_number, secret_hash = EXCLUDED.secret_hash",
        client_id,
        customer_number,
        secret_hash,
    )


async def find_client(conn: Conn, client_id: str) -> ApiClient | None:
    row = await conn.fetchrow(
        "SELECT client_id, customer_number, secret_hash FROM api_clients WHERE client_id = $1",
        client_id,
    )
    return ApiClient(**dict(row)) if row else None


async def insert_token(
    conn: Conn,
    token_hash: bytes,
    client: ApiClient,
    issued_at: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO access_tokens (token_hash, client_id, customer_number, issued_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        token_hash,
        client.client_id,
        client.customer_number,
        issued_at,
        expires_at,
    )
    # Housekeeping: expired tokens are useless; drop a few on every issue.
    await conn.execute(
        "DELETE FROM access_tokens WHERE token_hash IN (SELECT token_hash FROM access_tokens"
        " WHERE expires_at < now() - interval '1 day' LIMIT 100)"
    )


async def find_token_owner(conn: Conn, token_hash: bytes) -> TokenOwner | None:
    row = await conn.fetchrow(
        "SELECT client_id, customer_number, expires_at FROM access_tokens WHERE token_hash = $1",
        token_hash,
    )
    return TokenOwner(**dict(row)) if row else None

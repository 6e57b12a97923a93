"""Grow the order table with synthetic finished orders, to show status reads don't slow,
and add running ones: their status is read from PostgreSQL on every request.

Each synthetic order is a copy of a real one (the order throughput benchmark's): the same
stored request body (so the same answer size) under its own id, externalId and numbers.
"""

from __future__ import annotations

import asyncpg

CUSTOMER = "1-ABCDE"


async def add_synthetic_orders(database_url: str, total: int) -> int:
    """Fill ``order_requests`` up to ``total`` rows with SUCCEEDED orders of 1-ABCDE;
    returns the row count."""
    conn = await asyncpg.connect(database_url)
    try:
        have: int = await conn.fetchval("SELECT count(*) FROM order_requests")
        template = await conn.fetchrow(
            "SELECT id::text AS id, body::text AS body FROM order_requests"
            " WHERE customer_number = $1 AND state = 'SUCCEEDED' LIMIT 1",
            CUSTOMER,
        )
        template_id = template["id"] if template else "none"
        template_body = template["body"] if template else '{"externalId": "SYN"}'
        await conn.execute(
            """
            INSERT INTO order_requests (id, customer_number, external_id, action, channel, body,
                request_hash, state, step, order_number, service_id, created_at, started_at,
                completed_at, updated_at)
            SELECT s.id, $3, 'SYN-' || s.n, 'add', 'v3', replace($4, $5, s.id::text)::json,
                   md5(s.n::text), 'SUCCEEDED', 'completed', (89000000000 + s.n)::text,
                   (79000000000 + s.n)::text, now(), now(), now(), now()
            FROM (SELECT n, gen_random_uuid() AS id
                  FROM generate_series($1::bigint + 1, $1::bigint + $2::bigint) AS n) AS s
            """,
            have,
            max(0, total - have),
            CUSTOMER,
            template_body,
            template_id,
            timeout=600,
        )
        await conn.execute("VACUUM ANALYZE order_requests", timeout=600)
        await conn.execute("CHECKPOINT", timeout=600)
        count: int = await conn.fetchval("SELECT count(*) FROM order_requests")
        return count
    finally:
        await conn.close()


async def random_order_ids(database_url: str, limit: int) -> list[str]:
    """``limit`` ids of the customer's visible orders, drawn at random from all of them."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT id::text FROM order_requests WHERE customer_number = $1"
            " AND state <> 'PENDING' ORDER BY random() LIMIT $2",
            CUSTOMER,
            limit,
        )
    finally:
        await conn.close()
    return [r["id"] for r in rows]


async def add_running_orders(database_url: str, count: int) -> list[str]:
    """``count`` RUNNING copies of a finished order of 1-ABCDE (same body); their ids."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            """
            WITH template AS (
                SELECT id::text AS id, body::text AS body FROM order_requests
                WHERE customer_number = $2 AND state = 'SUCCEEDED' LIMIT 1)
            INSERT INTO order_requests (id, customer_number, external_id, action, channel,
                body, request_hash, state, step, step_message, order_number, created_at,
                started_at, updated_at)
            SELECT s.id, $2, 'RUN-' || s.id, 'add', 'v3',
                   replace(t.body, t.id, s.id::text)::json, md5(s.id::text), 'RUNNING',
                   'order created', '', (88700000000 + s.n)::text, now(), now(), now()
            FROM (SELECT n, gen_random_uuid() AS id FROM generate_series(1, $1) AS n) AS s,
                 template AS t
            RETURNING id::text
            """,
            count,
            CUSTOMER,
        )
        await conn.execute("ANALYZE order_requests")
    finally:
        await conn.close()
    return [r["id"] for r in rows]


async def delete_orders(database_url: str, order_ids: list[str]) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("DELETE FROM order_requests WHERE id = ANY($1::uuid[])", order_ids)
    finally:
        await conn.close()

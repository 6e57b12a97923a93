"""Grow the order table with synthetic finished orders, to show status reads don't slow."""

from __future__ import annotations

import asyncpg


async def add_synthetic_orders(database_url: str, total: int) -> None:
    """Fill ``order_requests`` up to ``total`` rows with SUCCEEDED orders of 1-ABCDE."""
    conn = await asyncpg.connect(database_url)
    try:
        have = await conn.fetchval("SELECT count(*) FROM order_requests")
        missing = max(0, total - have)
        await conn.execute(
            """
            INSERT INTO order_requests (id, customer_number, external_id, action, channel, body,
                request_hash, state, step, order_number, service_id, started_at, completed_at)
            SELECT gen_random_uuid(), '1-ABCDE', 'SYN-' || n || '-' || $2::int, 'add', 'v3',
                   json_build_object('externalId', 'SYN-' || n), 'x', 'SUCCEEDED', 'completed',
                   (89000000000 + n + $2::bigint * 100)::text,
                   (79000000000 + n + $2::bigint * 100)::text, now(), now()
            FROM generate_series(1, $1::int) AS n
            """,
            missing,
            total,
        )
        await conn.execute("ANALYZE order_requests")
    finally:
        await conn.close()


async def recent_order_ids(database_url: str, limit: int) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT id::text FROM order_requests WHERE customer_number = '1-ABCDE'"
            " ORDER BY random() LIMIT $1",
            limit,
        )
    finally:
        await conn.close()
    return [r["id"] for r in rows]

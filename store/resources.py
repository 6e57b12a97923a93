"""Network resources: IPv4 blocks from a pool and VLANs per site, never handed out twice.

Allocation is keyed by the order request, so a retried activity gets the same block.
An exclusion constraint in the schema makes overlapping live blocks impossible even if
this code had a bug; the advisory lock only avoids wasted retries under concurrency.
"""

from __future__ import annotations

from uuid import UUID

from domain.orders import Allocation
from store.conn import Conn

_ALLOCATION_LOCK = 7_718_0002
_VLAN_RANGE = (2, 4094)


class PoolExhausted(Exception):
    pass


async def allocate(
    conn: Conn, order_request_id: str, master_site_id: str, prefix_length: int
) -> Allocation:
    """Within the caller's transaction: the order's VLAN and IPv4 block (existing or new)."""
    key = UUID(order_request_id)
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _ALLOCATION_LOCK)
    block = await conn.fetchval(
        "SELECT block::text FROM ipv4_allocations WHERE order_request_id = $1", key
    )
    if block is None:
        block = await conn.fetchval(
            """
            -- The lowest free aligned block is the pool's start or the first aligned
            -- address after a live block, so only those few candidates are probed (an
            -- index probe each), never every block of the pool.
            WITH candidates AS (
                SELECT p.cidr AS pool, host(network(p.cidr))::inet AS base,
                       host(network(p.cidr))::inet AS after
                FROM ipv4_pools p
                UNION ALL
                SELECT p.cidr, host(network(p.cidr))::inet, broadcast(a.block) + 1
                FROM ipv4_allocations a JOIN ipv4_pools p ON a.block <<= p.cidr
                WHERE a.released_at IS NULL
            ), aligned AS (
                SELECT pool, set_masklen(
                    base + ((after - base) + size - 1) / size * size, $1
                )::cidr AS candidate
                FROM candidates, (SELECT (2 ^ (32 - $1))::bigint AS size) s
            )
            SELECT candidate::text FROM aligned c
            WHERE c.candidate <<= c.pool
              AND NOT EXISTS (
                SELECT 1 FROM ipv4_allocations a
                WHERE a.released_at IS NULL AND a.block && c.candidate
            )
            ORDER BY c.candidate LIMIT 1  -- the address, not the text output column
            """,
            prefix_length,
        )
        if block is None:
            raise PoolExhausted(f"no free /{prefix_length} IPv4 block")
        await conn.execute(
            "INSERT INTO ipv4_allocations (order_request_id, block) VALUES ($1, $2::cidr)",
            key,
            block,
        )
    vlan = await conn.fetchval(
        "SELECT vlan_id FROM vlan_allocations WHERE order_request_id = $1", key
    )
    if vlan is None:
        vlan = await conn.fetchval(
            # The lowest free VLAN is the range's first or one after a live one.
            "SELECT v FROM (SELECT $2::int AS v UNION ALL SELECT vlan_id + 1"
            " FROM vlan_allocations WHERE master_site_id = $1 AND released_at IS NULL) c"
            " WHERE v BETWEEN $2 AND $3 AND NOT EXISTS ("
            " SELECT 1 FROM vlan_allocations a WHERE a.master_site_id = $1"
            " AND a.vlan_id = c.v AND a.released_at IS NULL) ORDER BY v LIMIT 1",
            master_site_id,
            *_VLAN_RANGE,
        )
        if vlan is None:
            raise PoolExhausted(f"no free VLAN at {master_site_id}")
        await conn.execute(
            "INSERT INTO vlan_allocations (order_request_id, master_site_id, vlan_id)"
            " VALUES ($1, $2, $3)",
            key,
            master_site_id,
            vlan,
        )
    return Allocation(vlan_id=int(vlan), ipv4_block=str(block))


async def attach_to_service(conn: Conn, order_request_id: str, service_id: str) -> None:
    await conn.execute(
        "WITH vlan AS (UPDATE vlan_allocations SET service_id = $2 WHERE order_request_id = $1)"
        " UPDATE ipv4_allocations SET service_id = $2 WHERE order_request_id = $1",
        UUID(order_request_id),
        service_id,
    )


async def release_for_order(conn: Conn, order_request_id: str) -> None:
    """Compensation of a failed or cancelled order: its resources go back to the pool."""
    key = UUID(order_request_id)
    for table in ("ipv4_allocations", "vlan_allocations"):
        await conn.execute(
            f"UPDATE {table} SET released_at = now()"
            " WHERE order_request_id = $1 AND released_at IS NULL",
            key,
        )


async def release_for_service(conn: Conn, service_id: str) -> None:
    for table in ("ipv4_allocations", "vlan_allocations"):
        await conn.execute(
            f"UPDATE {table} SET released_at = now() WHERE service_id = $1 AND released_at IS NULL",
            service_id,
        )

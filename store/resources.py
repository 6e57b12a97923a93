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
            SELECT candidate::text FROM (
                SELECT set_masklen(
                    (host(network(p.cidr))::inet + (n * (2 ^ (32 - $1))::bigint)), $1
                )::cidr AS candidate
                FROM ipv4_pools p,
                     generate_series(0, (2 ^ ($1 - masklen(p.cidr)))::bigint - 1) AS n
            ) c
            WHERE NOT EXISTS (
                SELECT 1 FROM ipv4_allocations a
                WHERE a.released_at IS NULL AND a.block && c.candidate
            )
            ORDER BY candidate LIMIT 1
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
            "SELECT v FROM generate_series($2::int, $3::int) v WHERE NOT EXISTS ("
            " SELECT 1 FROM vlan_allocations a WHERE a.master_site_id = $1"
            " AND a.vlan_id = v AND a.released_at IS NULL) ORDER BY v LIMIT 1",
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
    key = UUID(order_request_id)
    for table in ("ipv4_allocations", "vlan_allocations"):
        await conn.execute(
            f"UPDATE {table} SET service_id = $2 WHERE order_request_id = $1", key, service_id
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

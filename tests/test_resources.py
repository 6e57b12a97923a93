"""Resource allocation picks the lowest free block and VLAN, checked against brute force.

The allocator only probes the few places a free block can start (the pool's start, or
just after a live block); the oracle here tries every block of the pool. Everything
runs in one rolled-back transaction, holding the allocation lock, so nothing else in
the session interferes and nothing stays behind.
"""

from __future__ import annotations

import random
import uuid

import asyncpg

from store import resources

SITE = "PL-RESOURCE-TEST"

BRUTE_FORCE_BLOCK = """
SELECT candidate::text FROM (
    SELECT set_masklen((host(network(p.cidr))::inet + n * (2 ^ (32 - $1))::bigint), $1)::cidr
           AS candidate
    FROM ipv4_pools p, generate_series(0, (2 ^ ($1 - masklen(p.cidr)))::bigint - 1) AS n
) c
WHERE NOT EXISTS (
    SELECT 1 FROM ipv4_allocations a WHERE a.released_at IS NULL AND a.block && c.candidate
)
ORDER BY c.candidate LIMIT 1
"""

BRUTE_FORCE_VLAN = """
SELECT v FROM generate_series(2, 4094) v WHERE NOT EXISTS (
    SELECT 1 FROM vlan_allocations a
    WHERE a.master_site_id = $1 AND a.vlan_id = v AND a.released_at IS NULL
) ORDER BY v LIMIT 1
"""


async def test_allocations_take_the_lowest_free_block_and_vlan(pool: asyncpg.Pool) -> None:
    shuffle = random.Random(7)
    held: list[uuid.UUID] = []
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            for _ in range(100):
                if held and shuffle.random() < 0.3:  # release one, leaving a hole
                    gone = held.pop(shuffle.randrange(len(held)))
                    for table in ("ipv4_allocations", "vlan_allocations"):
                        await conn.execute(
                            f"UPDATE {table} SET released_at = now() WHERE order_request_id = $1",
                            gone,
                        )
                    continue
                prefix = shuffle.choice([28, 29, 30])
                expected_block = await conn.fetchval(BRUTE_FORCE_BLOCK, prefix)
                expected_vlan = await conn.fetchval(BRUTE_FORCE_VLAN, SITE)
                order = uuid.uuid4()
                got = await resources.allocate(conn, str(order), SITE, prefix)
                assert (got.ipv4_block, got.vlan_id) == (expected_block, expected_vlan)
                held.append(order)
                # The same order asking again (a retried activity) gets the same resources.
                assert await resources.allocate(conn, str(order), SITE, prefix) == got
        finally:
            await transaction.rollback()

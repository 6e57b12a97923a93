"""The order-event feed: ``since=<recent event>`` latency at 1,000 vs 1,000,000 events, and
a full dump of the whole log (events/s and the API process's peak memory).

Events are added in bulk with SQL, as completed orders of the demo customer would have
appended them (both DONE_SUCCESS and DONE_FAILED, plus intermediate IN_PROGRESS events,
which the feed must skip).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import httpx
import psutil

from benchmarks.harness import System, percentile, token

FEED = "/api/2.3.1/orderevents/"
CUSTOMER = "1-ABCDE"


async def grow_event_log(database_url: str, total: int) -> None:
    """Append synthetic events until the log holds ``total`` (one in four IN_PROGRESS)."""
    conn = await asyncpg.connect(database_url)
    try:
        have = await conn.fetchval("SELECT count(*) FROM order_events")
        await conn.execute(
            """
            INSERT INTO order_events (event_id, dedupe_key, customer_number, order_id,
                                      event_type, feed_order, payload)
            SELECT gen_random_uuid(), 'bench-' || ($2::bigint + n), $3, 'SYN-' || n, kind,
                   json_build_object('path', '/api/2.3.1/orders/SYN-' || n,
                                     'accessId', 'SYN' || n, 'service', 'BB-100-10',
                                     'operation', 'ACTIVATE',
                                     'state', replace(kind, 'ORDER_', ''), 'message', ''),
                   '{}'::jsonb
            FROM generate_series(1, $1::bigint) AS n,
                 LATERAL (SELECT CASE n % 4 WHEN 0 THEN 'ORDER_IN_PROGRESS'
                                            WHEN 1 THEN 'DONE_FAILED'
                                            ELSE 'DONE_SUCCESS' END AS kind) AS k
            """,
            max(0, total - have),
            have,
            CUSTOMER,
        )
        await conn.execute("VACUUM ANALYZE order_events")  # steady state: no autovacuum mid-run
    finally:
        await conn.close()


async def _recent_event(database_url: str) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        event_id: str = await conn.fetchval(
            "SELECT event_id::text FROM order_events WHERE customer_number = $1"
            " AND event_type IN ('DONE_SUCCESS', 'DONE_FAILED')"
            " ORDER BY seq DESC OFFSET 10 LIMIT 1",
            CUSTOMER,
        )
    finally:
        await conn.close()
    return event_id


async def since_latency(system: System, requests: int) -> dict[str, float]:
    since = await _recent_event(system.database_url)
    async with httpx.AsyncClient(base_url=system.base_url, timeout=60) as http:
        headers = await token(http, system.base_url)
        latencies = []
        for _ in range(requests):
            started = time.perf_counter()
            response = await http.get(FEED, headers=headers, params={"since": since})
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200 and len(response.json()) == 10, response.text
    return {"p50_ms": percentile(latencies, 50) * 1000, "p99_ms": percentile(latencies, 99) * 1000}


async def full_dump(system: System) -> dict[str, Any]:
    """Stream the whole feed while sampling the API's resident memory."""
    api = psutil.Process(system.api_pid)
    before = api.memory_info().rss
    peak = before
    sampling = True

    async def sample() -> None:
        nonlocal peak
        while sampling:
            peak = max(peak, api.memory_info().rss)
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    events = 0
    size = 0
    tail = b""
    marker = b'{"event":'
    async with httpx.AsyncClient(base_url=system.base_url, timeout=600) as http:
        headers = await token(http, system.base_url)
        started = time.perf_counter()
        async with http.stream("GET", FEED, headers=headers) as response:
            assert response.status_code == 200
            async for chunk in response.aiter_raw():
                size += len(chunk)
                window = tail + chunk
                events += window.count(marker)
                tail = window[-(len(marker) - 1) :]
        elapsed = time.perf_counter() - started
    sampling = False
    await sampler
    return {
        "events": events,
        "bytes": size,
        "seconds": elapsed,
        "events_per_second": events / elapsed,
        "api_rss_before_mb": before / 2**20,
        "api_rss_peak_growth_mb": (peak - before) / 2**20,
    }


async def feed_benchmark(system: System, small: int, large: int, requests: int) -> dict[str, Any]:
    await grow_event_log(system.database_url, small)
    at_small = await since_latency(system, requests)
    await grow_event_log(system.database_url, large)
    at_large = await since_latency(system, requests)
    dump = await full_dump(system)
    conn = await asyncpg.connect(system.database_url)
    try:
        shown = await conn.fetchval(
            "SELECT count(*) FROM order_events WHERE customer_number = $1"
            " AND event_type IN ('DONE_SUCCESS', 'DONE_FAILED')",
            CUSTOMER,
        )
    finally:
        await conn.close()
    assert dump["events"] == shown, (dump, shown)  # the whole feed, nothing more
    return {
        "since_latency": {str(small): at_small, str(large): at_large},
        "since_p50_ratio": at_large["p50_ms"] / at_small["p50_ms"],
        "full_dump": dump,
    }

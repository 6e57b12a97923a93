"""The order-event feed: ``since=<recent event>`` latency with 1,000 vs 1,000,000 feed
events in the log, and a full dump of the whole feed (events/s and the API process's
peak memory, sampled with psutil: the API runs in its own process).

Events are added in bulk with one SQL statement, as finished orders of the demo customer
(the token's) would have appended them: each order an ``ORDER_IN_PROGRESS`` event (which
the feed must skip) and then ``DONE_SUCCESS`` (one in ten ``DONE_FAILED``), with the
columns, dedupe keys, feed view and payload the order workflow writes. "N feed events"
therefore means 2N rows in the log.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import psutil

from benchmarks.harness import System, percentile, token
from benchmarks.load import get_load

FEED = "/api/2.3.1/orderevents/"
CUSTOMER = "1-ABCDE"
FEED_TYPES = ("DONE_SUCCESS", "DONE_FAILED")

_GROW = """
INSERT INTO order_events (event_id, dedupe_key, customer_number, order_id, event_type,
                          feed_order, payload)
SELECT gen_random_uuid(), 'order-' || o.id || ':' || e.kind, $2, o.id, e.kind,
       json_build_object('path', '/Customer/v3/Ordering/orderRequest/' || o.id,
                         'accessId', o.service_id, 'service', 'IOD-100Mbps',
                         'operation', 'ACTIVATE', 'state', e.state, 'message', e.message),
       jsonb_build_object('externalId', 'BENCH-' || o.n, 'action', 'add',
                          'orderId', o.order_number, 'serviceId', e.service_id,
                          'errorCode', e.error_code, 'speed', '100 Mbps',
                          'masterSiteId', 'PL0001247634')
FROM (SELECT n, md5('bench-order-' || n)::uuid::text AS id,
             (88500000000 + n)::text AS order_number, (77500000000 + n)::text AS service_id,
             n % 10 = 0 AS failed
      FROM generate_series($1::bigint + 1, $1::bigint + $3::bigint) AS n) AS o,
     LATERAL (VALUES
        (1, 'ORDER_IN_PROGRESS', 'IN_PROGRESS', '', NULL, NULL),
        (2, CASE WHEN o.failed THEN 'DONE_FAILED' ELSE 'DONE_SUCCESS' END,
            CASE WHEN o.failed THEN 'DONE_FAILED' ELSE 'DONE_SUCCESS' END,
            CASE WHEN o.failed THEN 'The network refused the configuration' ELSE '' END,
            CASE WHEN o.failed THEN 'PROVISIONING_FAILED' END,
            CASE WHEN o.failed THEN NULL ELSE o.service_id END)
     ) AS e(step, kind, state, message, error_code, service_id)
ORDER BY o.n, e.step
"""


async def _feed_count(conn: asyncpg.Connection) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM order_events WHERE customer_number = $1"
        " AND event_type = ANY($2::text[])",
        CUSTOMER,
        list(FEED_TYPES),
    )
    return count


async def grow_event_log(database_url: str, feed_events: int) -> dict[str, Any]:
    """Append synthetic finished orders until the customer's feed shows ``feed_events``."""
    conn = await asyncpg.connect(database_url)
    try:
        missing = max(0, feed_events - await _feed_count(conn))
        # Synthetic orders are numbered from the row count: past every earlier call's.
        offset = await conn.fetchval("SELECT count(*) FROM order_events")
        started = time.perf_counter()
        await conn.execute(_GROW, offset, CUSTOMER, missing, timeout=1800)
        inserted_in = time.perf_counter() - started
        # Steady state before measuring: no autovacuum, and no checkpoint writing out the
        # freshly loaded pages, in the middle of a measurement.
        await conn.execute("VACUUM ANALYZE order_events", timeout=1800)
        await conn.execute("CHECKPOINT", timeout=1800)
        rows = await conn.fetchval("SELECT count(*) FROM order_events")
        return {
            "feed_events": await _feed_count(conn),
            "log_rows": rows,
            "insert_seconds": inserted_in,
        }
    finally:
        await conn.close()


async def _recent_event(database_url: str, back: int) -> str:
    """The feed event ``back`` entries before the end of the customer's feed."""
    conn = await asyncpg.connect(database_url)
    try:
        event_id: str = await conn.fetchval(
            "SELECT event_id::text FROM order_events WHERE customer_number = $1"
            " AND event_type = ANY($2::text[]) ORDER BY seq DESC OFFSET $3 LIMIT 1",
            CUSTOMER,
            list(FEED_TYPES),
            back,
        )
    finally:
        await conn.close()
    return event_id


def _ok(status: int, _body: bytes) -> bool:
    return status == 200


async def since_latency(
    system: System, requests: int, back: int = 10, rounds: int = 5
) -> dict[str, float]:
    """``GET ?since=<the event 10 before the end>`` one at a time (the answer: 10 events),
    in ``rounds`` rounds interleaved with as many ``GET /healthz``, after a warm-up.

    One request at a time, so the latency is the request's own. The two sizes of the log
    can't be measured in interleaved rounds (one log grows into the other), so each size
    is measured against ``/healthz`` on the same server at the same moment: comparing the
    two sizes' since/healthz ratios cancels the machine's drift between them.
    """
    since = await _recent_event(system.database_url, back)
    async with httpx.AsyncClient(base_url=system.base_url, timeout=60) as http:
        headers = await token(http, system.base_url)
        first = await http.get(FEED, headers=headers, params={"since": since})
        assert first.status_code == 200 and len(first.json()) == back, first.text

    def ten_events(status: int, body: bytes) -> bool:
        return status == 200 and body.count(b'"event":') == back

    async def measure(path: str, count: int, check: Callable[[int, bytes], bool]) -> list[float]:
        result = await get_load(
            system.base_url,
            lambda: path,
            requests=count,
            concurrency=1,
            headers=headers,
            check=check,
        )
        return result.latencies

    feed_path = f"{FEED}?since={since}"
    per_round = max(1, requests // rounds)
    await measure(feed_path, per_round // 2 + 1, ten_events)
    await measure("/healthz", per_round // 2 + 1, _ok)
    feed_latencies: list[float] = []
    healthz_latencies: list[float] = []
    for _ in range(rounds):
        feed_latencies += await measure(feed_path, per_round, ten_events)
        healthz_latencies += await measure("/healthz", per_round, _ok)
    p50 = percentile(feed_latencies, 50)
    healthz_p50 = percentile(healthz_latencies, 50)
    return {
        "requests": len(feed_latencies),
        "p50_ms": p50 * 1000,
        "p99_ms": percentile(feed_latencies, 99) * 1000,
        "mean_ms": sum(feed_latencies) / len(feed_latencies) * 1000,
        "healthz_p50_ms": healthz_p50 * 1000,
        "p50_vs_healthz": p50 / healthz_p50,
    }


async def full_dump(system: System) -> dict[str, Any]:
    """Stream the whole feed while sampling the API process's resident memory.

    Checks the answer: as many entries as the customer's feed has, the first and the last
    being the feed's first and last events.
    """
    conn = await asyncpg.connect(system.database_url)
    try:
        expected = await _feed_count(conn)
        ends = await conn.fetchrow(
            "SELECT (SELECT event_id::text FROM order_events WHERE customer_number = $1"
            "        AND event_type = ANY($2::text[]) ORDER BY seq LIMIT 1),"
            "       (SELECT event_id::text FROM order_events WHERE customer_number = $1"
            "        AND event_type = ANY($2::text[]) ORDER BY seq DESC LIMIT 1)",
            CUSTOMER,
            list(FEED_TYPES),
        )
    finally:
        await conn.close()
    assert ends is not None
    first_id, last_id = ends[0], ends[1]
    api = psutil.Process(system.api_pid)
    before = api.memory_info().rss
    peak = before
    sampling = True

    async def sample() -> None:
        nonlocal peak
        while sampling:
            peak = max(peak, api.memory_info().rss)
            await asyncio.sleep(0.01)

    sampler = asyncio.create_task(sample())
    events = 0
    size = 0
    head = b""
    tail = b""
    overlap = b""
    marker = b'{"event":'
    async with httpx.AsyncClient(base_url=system.base_url, timeout=600) as http:
        headers = await token(http, system.base_url)
        started = time.perf_counter()
        async with http.stream("GET", FEED, headers=headers) as response:
            assert response.status_code == 200
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if len(head) < 200:
                    head += chunk[:200]
                window = overlap + chunk
                events += window.count(marker)
                overlap = window[-(len(marker) - 1) :]
                tail = (tail + chunk)[-1000:]
        elapsed = time.perf_counter() - started
    sampling = False
    await sampler
    assert events == expected, (events, expected)  # the whole feed, nothing more
    assert head.startswith(b'[{"event":"' + first_id.encode()), head[:100]
    assert f'{{"event":"{last_id}"'.encode() in tail, tail
    return {
        "events": events,
        "bytes": size,
        "seconds": elapsed,
        "events_per_second": events / elapsed,
        "api_rss_before_mb": before / 2**20,
        "api_rss_peak_mb": peak / 2**20,
        "api_rss_peak_growth_mb": (peak - before) / 2**20,
    }


async def feed_benchmark(system: System, small: int, large: int, requests: int) -> dict[str, Any]:
    grown_small = await grow_event_log(system.database_url, small)
    at_small = await since_latency(system, requests)
    grown_large = await grow_event_log(system.database_url, large)
    at_large = await since_latency(system, requests)
    dump = await full_dump(system)
    return {
        "log": {str(small): grown_small, str(large): grown_large},
        "since_latency": {str(small): at_small, str(large): at_large},
        "since_p50_ratio": at_large["p50_ms"] / at_small["p50_ms"],
        # The same, each size's p50 taken relative to /healthz at that moment (the target).
        "since_growth_ratio": at_large["p50_vs_healthz"] / at_small["p50_vs_healthz"],
        "full_dump": dump,
    }

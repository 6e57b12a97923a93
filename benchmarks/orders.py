"""Order throughput against a bare-Temporal baseline, and status reads against /healthz.

Both measure in interleaved rounds (orders, bare, orders, bare, …; healthz, status, …)
so that whatever else the machine does at the time weighs on both sides of the ratio.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from temporalio.client import Client
from temporalio.worker import Worker

from benchmarks.baseline import BenchBaseline, bench_noop
from benchmarks.harness import System, percentile, token
from benchmarks.load import LeanClient, LoadResult, get_load
from tests.ordering import order_body

T = TypeVar("T")

ORDER = "/Customer/v3/Ordering/orderRequest"
FEED = "/api/2.3.1/orderevents/"
PRICE = {
    "sourceSystem": "NaaS ExternalAPI",
    "customerNumber": "1-ABCDE",
    "currencyCode": "USD",
    "masterSiteId": "PL0001247634",
    "productCode": "718",
    "partnerId": "43558",
    "speed": "100 Mbps",
}


async def bounded(concurrency: int, jobs: list[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs, ``concurrency`` at a time (a new one starts as soon as one ends)."""
    gate = asyncio.Semaphore(concurrency)

    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return await asyncio.gather(*(run(j) for j in jobs))


class CompletionWatcher:
    """Learns when orders finish from the order-event feed's long poll, as a client would.

    One request at a time follows the whole feed (``since`` + ``wait``), so measuring
    completion adds one long poll to the load, not a status poll per order.
    """

    def __init__(self, client: LeanClient) -> None:
        self._client = client
        self._done: dict[str, asyncio.Future[tuple[str, float]]] = {}
        self._since: str | None = None

    def expect(self, order_id: str) -> asyncio.Future[tuple[str, float]]:
        return self._done.setdefault(order_id, asyncio.get_running_loop().create_future())

    async def start_after_existing(self) -> None:
        events = await self._client.json("GET", FEED)
        assert isinstance(events, list)
        self._since = events[-1]["event"] if events else None

    async def run(self) -> None:
        while True:
            query = urlencode({"wait": "10", **({"since": self._since} if self._since else {})})
            events = await self._client.json("GET", f"{FEED}?{query}")
            now = time.perf_counter()
            assert isinstance(events, list)
            for event in events:
                self._since = event["event"]
                order_id = event["order"]["path"].rsplit("/", 1)[-1]
                future = self.expect(order_id)
                if not future.done():
                    future.set_result((event["order"]["state"], now))


async def _quotes(
    http: httpx.AsyncClient, headers: dict[str, str], count: int, concurrency: int
) -> list[str]:
    async def one() -> str:
        response = await http.post("/Product/v1/priceRequest", headers=headers, json=PRICE)
        response.raise_for_status()
        quote_id: str = response.json()["id"]
        return quote_id

    return await bounded(concurrency, [one] * count)


async def _order_round(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    poster: LeanClient,
    watcher: CompletionWatcher,
    orders: int,
    concurrency: int,
) -> tuple[float, list[tuple[float, float]]]:
    """``orders`` orders, ``concurrency`` in flight, each from its POST to DONE_SUCCESS in
    the feed. The quotes are asked for first, outside the time."""
    quotes = iter(await _quotes(http, headers, orders, concurrency))

    async def one() -> tuple[float, float]:
        body = order_body(next(quotes))
        started = time.perf_counter()
        status, answer = await poster.request("POST", ORDER, body)
        assert status == 201, answer
        posted = time.perf_counter() - started
        state, finished = await watcher.expect(json.loads(answer)["id"])
        assert state == "DONE_SUCCESS", state
        return posted, finished - started

    begin = time.perf_counter()
    results = await bounded(concurrency, [one] * orders)
    return time.perf_counter() - begin, results


async def _bare_round(
    client: Client, queue: str, runs: int, concurrency: int
) -> tuple[float, list[float]]:
    async def one() -> float:
        started = time.perf_counter()
        await client.execute_workflow(
            BenchBaseline.run, "x", id=f"bench-{uuid.uuid4()}", task_queue=queue
        )
        return time.perf_counter() - started

    begin = time.perf_counter()
    totals = await bounded(concurrency, [one] * runs)
    return time.perf_counter() - begin, totals


async def order_throughput(
    system: System, orders: int, concurrency: int, rounds: int
) -> dict[str, Any]:
    """``orders`` orders over HTTP against as many bare workflows (one activity each,
    started with the SDK, their worker in this process), in ``rounds`` interleaved rounds,
    after a warm-up round of each."""
    per_round = max(1, orders // rounds)
    queue = f"bench-baseline-{uuid.uuid4().hex[:6]}"
    limits = httpx.Limits(max_connections=concurrency * 2 + 2)
    order_time = bare_time = 0.0
    order_results: list[tuple[float, float]] = []
    bare_results: list[float] = []
    round_ratios: list[float] = []
    async with (
        httpx.AsyncClient(base_url=system.base_url, limits=limits, timeout=120) as http,
        Worker(
            system.temporal, task_queue=queue, workflows=[BenchBaseline], activities=[bench_noop]
        ),
    ):
        headers = await token(http, system.base_url)
        # The POSTs and the feed's long poll go through the lean client: httpx's own CPU
        # per request (about a millisecond, on the cores the system runs on) would weigh
        # on the orders' side only (the baseline's client is the SDK's).
        poster, follower = (
            LeanClient(system.base_url, headers),
            LeanClient(system.base_url, headers),
        )
        watcher = CompletionWatcher(follower)
        await watcher.start_after_existing()
        watching = asyncio.create_task(watcher.run())
        try:
            await _order_round(http, headers, poster, watcher, concurrency, concurrency)
            await _bare_round(system.temporal, queue, concurrency, concurrency)
            for _ in range(rounds):
                seconds, results = await _order_round(
                    http, headers, poster, watcher, per_round, concurrency
                )
                order_time += seconds
                order_results += results
                bare_seconds, totals = await _bare_round(
                    system.temporal, queue, per_round, concurrency
                )
                bare_time += bare_seconds
                bare_results += totals
                round_ratios.append(bare_seconds / seconds)
        finally:
            watching.cancel()
            poster.close()
            follower.close()
    posts = [r[0] for r in order_results]
    dones = [r[1] for r in order_results]
    orders_per_second = len(order_results) / order_time
    bare_per_second = len(bare_results) / bare_time
    return {
        "orders": len(order_results),
        "concurrency": concurrency,
        "rounds": rounds,
        "orders_per_second": orders_per_second,
        "post_p50_ms": percentile(posts, 50) * 1000,
        "post_p99_ms": percentile(posts, 99) * 1000,
        "done_p50_ms": percentile(dones, 50) * 1000,
        "done_p99_ms": percentile(dones, 99) * 1000,
        "baseline": {
            "workflows": len(bare_results),
            "workflows_per_second": bare_per_second,
            "done_p50_ms": percentile(bare_results, 50) * 1000,
            "done_p99_ms": percentile(bare_results, 99) * 1000,
        },
        "ratio_per_round": round_ratios,
        "ratio": orders_per_second / bare_per_second,
    }


def _pick(ids: list[str]) -> Callable[[], str]:
    return lambda: f"{ORDER}/{random.choice(ids)}"


async def status_reads(
    system: System, order_ids: list[str], seconds: float, concurrency: int, rounds: int
) -> dict[str, Any]:
    """GET status of random orders vs ``/healthz``, ``concurrency`` kept-alive connections,
    ``rounds`` interleaved rounds of ``seconds`` each, after every order was read once and
    a short warm-up of each. (The API keeps finished orders in memory after their first
    read: the rounds measure a client polling orders it knows, not the first read, which
    costs what a running order's read does; ``add_running_orders`` measures that path.)"""
    async with httpx.AsyncClient(base_url=system.base_url) as http:
        headers = await token(http, system.base_url)

    async def measure(path_for: Callable[[], str], duration: float) -> LoadResult:
        return await get_load(
            system.base_url,
            path_for,
            seconds=duration,
            concurrency=concurrency,
            headers=headers,
        )

    each_once = iter(order_ids)
    await get_load(
        system.base_url,
        lambda: f"{ORDER}/{next(each_once)}",
        requests=len(order_ids),
        concurrency=concurrency,
        headers=headers,
    )
    await measure(lambda: "/healthz", seconds / 4)
    await measure(_pick(order_ids), seconds / 4)
    healthz: list[LoadResult] = []
    status: list[LoadResult] = []
    for _ in range(rounds):
        healthz.append(await measure(lambda: "/healthz", seconds))
        status.append(await measure(_pick(order_ids), seconds))
    pairs = zip(status, healthz, strict=True)
    ratios = [s.requests_per_second / h.requests_per_second for s, h in pairs]
    return {
        "concurrency": concurrency,
        "status": _combined(status),
        "healthz": _combined(healthz),
        "ratio_per_round": ratios,
        "ratio": statistics.median(ratios),
    }


def _combined(results: list[LoadResult]) -> dict[str, float]:
    latencies = [latency for r in results for latency in r.latencies]
    count = sum(r.requests for r in results)
    seconds = sum(r.seconds for r in results)
    return {
        "requests": count,
        "requests_per_second": count / seconds,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }

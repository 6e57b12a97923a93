"""Order throughput against a bare-Temporal baseline, and status reads against /healthz."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.worker import Worker

from benchmarks.baseline import BenchBaseline, bench_noop
from benchmarks.harness import System, percentile, token
from tests.ordering import order_body

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


async def _bounded(concurrency: int, jobs: list[Any]) -> list[Any]:
    gate = asyncio.Semaphore(concurrency)

    async def run(job: Any) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(run(j) for j in jobs))


class CompletionWatcher:
    """Learns when orders finish from the order-event feed's long poll, as a client would.

    One request at a time follows the whole feed (``since`` + ``wait``), so measuring
    completion adds one long poll to the load, not a status poll per order.
    """

    def __init__(self, http: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self._http, self._headers = http, headers
        self._done: dict[str, asyncio.Future[tuple[str, float]]] = {}
        self._since: str | None = None

    def expect(self, order_id: str) -> asyncio.Future[tuple[str, float]]:
        return self._done.setdefault(order_id, asyncio.get_running_loop().create_future())

    async def start_after_existing(self) -> None:
        events = (await self._http.get(FEED, headers=self._headers)).json()
        self._since = events[-1]["event"] if events else None

    async def run(self) -> None:
        while True:
            params = {"wait": "10", **({"since": self._since} if self._since else {})}
            response = await self._http.get(FEED, headers=self._headers, params=params)
            response.raise_for_status()
            now = time.perf_counter()
            for event in response.json():
                self._since = event["event"]
                order_id = event["order"]["path"].rsplit("/", 1)[-1]
                future = self.expect(order_id)
                if not future.done():
                    future.set_result((event["order"]["state"], now))


async def order_throughput(system: System, orders: int, concurrency: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=concurrency * 2 + 2)
    async with httpx.AsyncClient(base_url=system.base_url, limits=limits, timeout=60) as http:
        headers = await token(http, system.base_url)
        watcher = CompletionWatcher(http, headers)
        await watcher.start_after_existing()
        watching = asyncio.create_task(watcher.run())

        async def one() -> tuple[float, float]:
            quote = await http.post("/Product/v1/priceRequest", headers=headers, json=PRICE)
            quote.raise_for_status()
            started = time.perf_counter()
            response = await http.post(ORDER, headers=headers, json=order_body(quote.json()["id"]))
            response.raise_for_status()
            posted = time.perf_counter() - started
            state, finished = await watcher.expect(response.json()["id"])
            assert state == "DONE_SUCCESS", state
            return posted, finished - started

        begin = time.perf_counter()
        results = await _bounded(concurrency, [one] * orders)
        elapsed = time.perf_counter() - begin
        watching.cancel()
    posts = [r[0] for r in results]
    totals = [r[1] for r in results]
    return {
        "orders": orders,
        "concurrency": concurrency,
        "orders_per_second": orders / elapsed,
        "post_p50_ms": percentile(posts, 50) * 1000,
        "post_p99_ms": percentile(posts, 99) * 1000,
        "done_p50_ms": percentile(totals, 50) * 1000,
        "done_p99_ms": percentile(totals, 99) * 1000,
    }


async def bare_baseline(client: Client, runs: int, concurrency: int) -> dict[str, Any]:
    queue = f"bench-baseline-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=queue, workflows=[BenchBaseline], activities=[bench_noop]):

        async def one() -> float:
            started = time.perf_counter()
            await client.execute_workflow(
                BenchBaseline.run, "x", id=f"bench-{uuid.uuid4()}", task_queue=queue
            )
            return time.perf_counter() - started

        begin = time.perf_counter()
        totals = await _bounded(concurrency, [one] * runs)
        elapsed = time.perf_counter() - begin
    return {
        "workflows_per_second": runs / elapsed,
        "done_p50_ms": percentile(totals, 50) * 1000,
        "done_p99_ms": percentile(totals, 99) * 1000,
    }


async def status_reads(
    system: System, order_ids: list[str], requests: int, concurrency: int
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(base_url=system.base_url, limits=limits, timeout=60) as http:
        headers = await token(http, system.base_url)

        async def measure(path_for: Any) -> dict[str, float]:
            latencies: list[float] = []

            async def one() -> None:
                started = time.perf_counter()
                try:
                    response = await http.get(path_for(), headers=headers)
                except (httpx.ReadError, httpx.RemoteProtocolError):
                    # A kept-alive connection the server closed as it was reused: a GET
                    # is safe to send again, and the retry counts in the latency.
                    response = await http.get(path_for(), headers=headers)
                assert response.status_code == 200, response.text
                latencies.append(time.perf_counter() - started)

            begin = time.perf_counter()
            await _bounded(concurrency, [one] * requests)
            elapsed = time.perf_counter() - begin
            return {
                "requests_per_second": requests / elapsed,
                "p99_ms": percentile(latencies, 99) * 1000,
            }

        baseline = await measure(lambda: "/healthz")
        status = await measure(lambda: f"{ORDER}/{random.choice(order_ids)}")
    return {
        "status": status,
        "healthz": baseline,
        "ratio": status["requests_per_second"] / baseline["requests_per_second"],
    }

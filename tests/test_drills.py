"""Reliability drills: orders under a crashing worker, a restarting database, no Temporal.

Each drill runs the real pieces (Temporal dev server, PostgreSQL, ``iod worker``
processes) and checks the outcome in PostgreSQL, not only through the API:

* **Worker crashes.** ``IOD_DRILL_ORDERS`` orders (200 by default) are submitted
  through the API while the worker process is SIGKILLed and replaced several times
  (``IOD_DRILL_KILLS``, default 4), at points spread over the first 60% of the work
  (counted in rows the orders write). Some orders carry sandbox triggers
  (``FAIL-PROVISION``, ``FAIL-ORDER``, ``FLAKY-2``). Every order must
  end as its inputs say, none lost; no orderId, serviceId, IPv4 block or VLAN is
  handed out twice, and the order event log holds each event exactly once.
* **PostgreSQL restart.** A separate embedded PostgreSQL (its own data directory) is
  stopped while orders are in flight (``IOD_DRILL_ORDERS / 20``, at least 6) and the
  API is called all along: it answers 503 problems with ``Retry-After`` (never a 500),
  ``/readyz`` says not ready; the database stays down until a worker's step has failed
  on it. After the restart the orders placed before and during the outage complete
  and new orders work.
* **Temporal unreachable.** With the API's client on a dead port, and with a separate
  dev server stopped under a connected API: an order POST answers 503 quickly and
  leaves nothing that blocks the retry (the quote is not consumed), reads keep working;
  the retry with the same ``Idempotency-Key`` once Temporal is back creates the order
  exactly once.

Sizes: the defaults fit CI (2 cores). Run bigger with, e.g.,
``IOD_DRILL_ORDERS=1000 IOD_DRILL_KILLS=10 make test`` (or ``pytest tests/test_drills.py``).
Waits are on conditions with deadlines, never fixed sleeps.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from config.settings import Settings
from domain.orders import order_workflow_id
from embedded.postgres import EmbeddedPostgres
from embedded.temporal import temporal_cli_path
from store.demo_seed import seed_demo
from store.migrate import migrate
from store.pool import create_pool
from tests.ordering import new_quote, order_body, wait_for_status
from tests.problems import assert_problem
from tests.worker_process import WorkerProcess
from worker.main import build_worker
from worker.temporal_client import connect_temporal
from workflows.search_attributes import ALL_KEYS

ORDER = "/Customer/v3/Ordering/orderRequest"

DRILL_ORDERS = int(os.environ.get("IOD_DRILL_ORDERS", "200"))
DRILL_KILLS = int(os.environ.get("IOD_DRILL_KILLS", "4"))


def _own_queue(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(
        update={"task_queue": f"iod-drill-{uuid.uuid4().hex[:8]}", **changes}
    )


@asynccontextmanager
async def _api_on(
    settings: Settings, pool: asyncpg.Pool, client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, pool=pool, temporal=client)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://iod.test", timeout=120
    ) as api:
        yield api


async def _eventually(
    check: Callable[[], Awaitable[bool]],
    what: str,
    *,
    timeout: float,
    every: float = 0.1,
    describe: Callable[[], object] = lambda: "",
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} {describe()}")
        await asyncio.sleep(every)


# ---------------------------------------------------------------------------------------
# Drill 1: SIGKILL the worker repeatedly while orders are in flight.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrillOrder:
    external_id: str
    name: str
    expected_state: str
    expected_code: str | None
    units: int
    """Rows the order adds to the progress count (see ``_PROGRESS``) once it is done."""


def _drill_orders(count: int) -> list[DrillOrder]:
    run = uuid.uuid4().hex[:6]
    orders = []
    for i in range(count):
        external_id = f"DRILL-{run}-{i:05d}"
        if i % 10 == 3:
            orders.append(
                DrillOrder(
                    external_id, f"Drill {i} FAIL-PROVISION", "FAILED", "PROVISIONING_FAILED", 6
                )
            )
        elif i % 10 == 7:
            orders.append(
                DrillOrder(external_id, f"Drill {i} FAIL-ORDER", "FAILED", "ORDER_REJECTED", 4)
            )
        elif i % 10 == 5:
            orders.append(DrillOrder(external_id, f"Drill {i} FLAKY-2", "SUCCEEDED", None, 7))
        else:
            orders.append(DrillOrder(external_id, f"Drill {i}", "SUCCEEDED", None, 7))
    return orders


# Progress of the drill's orders, counted in rows: accepted, terminal, backend order,
# IPv4 allocation, backend service, events. Kills are placed at fractions of the total.
_PROGRESS = """
WITH mine AS (
    SELECT id, state FROM order_requests WHERE customer_number = '1-ABCDE'
    AND external_id = ANY($1::text[]))
SELECT (SELECT count(*) FROM mine WHERE state <> 'PENDING')
     + (SELECT count(*) FROM mine WHERE state IN ('SUCCEEDED', 'FAILED', 'CANCELLED'))
     + (SELECT count(*) FROM sandbox_orders s JOIN mine ON s.order_request_id = mine.id)
     + (SELECT count(*) FROM ipv4_allocations a JOIN mine ON a.order_request_id = mine.id)
     + (SELECT count(*) FROM sandbox_services s JOIN mine ON s.order_request_id = mine.id)
     + (SELECT count(*) FROM order_events e JOIN mine ON e.order_id = mine.id::text)
"""


async def _where(pool: asyncpg.Pool, external_ids: list[str]) -> list[dict[str, Any]]:
    """Where the drill's orders are, by state and step (for a failure message)."""
    rows = await pool.fetch(
        "SELECT state, step, left(step_message, 120) AS message, count(*) AS orders"
        " FROM order_requests WHERE customer_number = '1-ABCDE'"
        " AND external_id = ANY($1::text[]) GROUP BY 1, 2, 3 ORDER BY 4 DESC",
        external_ids,
    )
    return [dict(r) for r in rows]


async def _submit(
    api: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], deadline: float
) -> dict[str, Any]:
    """POST like a well-behaved client: on 503, retry with the same Idempotency-Key."""
    key = {"Idempotency-Key": str(uuid.uuid4())}
    loop = asyncio.get_running_loop()
    while True:
        response = await api.post(ORDER, headers={**headers, **key}, json=body)
        if response.status_code == 201:
            created: dict[str, Any] = response.json()
            return created
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert int(response.headers["Retry-After"]) > 0
        assert loop.time() < deadline, f"order {body['externalId']} never accepted"
        await asyncio.sleep(0.5)


async def _kill_at_intervals(
    worker: WorkerProcess, progress: Callable[[], Awaitable[int]], marks: list[int]
) -> None:
    """SIGKILL the worker (and start a new one) each time progress passes the next mark."""
    for mark in marks:

        async def passed(mark: int = mark) -> bool:
            return await progress() >= mark

        await _eventually(passed, f"progress {mark}", timeout=600, every=0.05)
        worker.restart()


@pytest.mark.slow
async def test_orders_survive_a_worker_killed_again_and_again(
    settings: Settings,
    pool: asyncpg.Pool,
    temporal_client: Client,
    acme: dict[str, str],
) -> None:
    own = _own_queue(
        settings,
        sandbox_latency_seconds=0.0,
        # Each kill costs the steps in flight one attempt (they time out): keep enough,
        # and a timeout that an overloaded worker (2 cores, many orders) still meets.
        activity_max_attempts=10,
        activity_timeout_seconds=10.0,
        intake_accept_timeout_seconds=5.0,
    )
    drill = _drill_orders(DRILL_ORDERS)
    external_ids = [o.external_id for o in drill]
    total_units = sum(o.units for o in drill)
    # Kills spread over the first 60% of the work: what a kill abandons waits for its
    # timeout (up to 30 s for bookkeeping steps) while the rest of the orders go on.
    marks = [
        total_units * (10 + 50 * i // max(DRILL_KILLS - 1, 1)) // 100 for i in range(DRILL_KILLS)
    ]

    async def progress() -> int:
        units: int = await pool.fetchval(_PROGRESS, external_ids)
        return units

    async def all_done() -> bool:
        return await progress() >= total_units

    loop = asyncio.get_running_loop()
    worker = WorkerProcess(own)
    async with _api_on(own, pool, temporal_client) as api:
        limit = asyncio.Semaphore(20)

        async def quote() -> str:
            async with limit:
                return await new_quote(api, acme)

        quotes = await asyncio.gather(*(quote() for _ in drill))
        worker.start()
        killer = asyncio.create_task(_kill_at_intervals(worker, progress, marks))
        try:
            deadline = loop.time() + 120 + DRILL_ORDERS

            async def place(order: DrillOrder, quote_id: str) -> dict[str, Any]:
                body = order_body(quote_id, name=order.name, external_id=order.external_id)
                async with limit:
                    return await _submit(api, acme, body, deadline)

            created = await asyncio.gather(
                *(place(o, q) for o, q in zip(drill, quotes, strict=True))
            )
            try:
                await _eventually(all_done, "every order to finish", timeout=deadline - loop.time())
            except AssertionError as stuck:
                raise AssertionError(f"{stuck}; {await _where(pool, external_ids)}") from None
            # Every mark lies below the total, so the last kill has happened by now.
            await asyncio.wait_for(killer, timeout=30)
            # The rows are written before each workflow's last task: let the worker that
            # is still running close every workflow before it is stopped.
            await _all_closed(temporal_client, [c["id"] for c in created])
        except BaseException:
            killer.cancel()
            print(worker.log_tail())
            raise
        finally:
            worker.stop()
        statuses = []
        for c in created:
            response = await api.get(f"{ORDER}/{c['id']}", headers=acme)
            assert response.status_code == 200, response.text
            statuses.append(response.json())

    ids = [c["id"] for c in created]
    assert len(set(ids)) == len(drill)
    # Every order ended as its inputs say.
    for order, status in zip(drill, statuses, strict=True):
        assert status["externalId"] == order.external_id
        assert status["state"] == order.expected_state, (order, status)
        if order.expected_code is None:
            assert status["error"] is None, status
            assert status["orderId"] and status["serviceId"], status
        else:
            assert status["error"]["code"] == order.expected_code, status
    # Nothing lost, nothing doubled: one intake record per externalId.
    rows = await pool.fetch(
        "SELECT id::text AS id, state, order_number, service_id FROM order_requests"
        " WHERE customer_number = '1-ABCDE' AND external_id = ANY($1::text[])",
        external_ids,
    )
    assert sorted(r["id"] for r in rows) == sorted(ids)
    succeeded = {s["id"] for s in statuses if s["state"] == "SUCCEEDED"}
    order_numbers = [r["order_number"] for r in rows if r["order_number"] is not None]
    service_ids = [r["service_id"] for r in rows if r["service_id"] is not None]
    assert len(order_numbers) == len(set(order_numbers))
    assert len(service_ids) == len(set(service_ids)) == len(succeeded)
    # The backend handed out one order number and one service per order, no more.
    per_order = await pool.fetchrow(
        "SELECT (SELECT count(*) FROM sandbox_orders WHERE order_request_id = ANY($1::uuid[]))"
        "   AS backend_orders,"
        " (SELECT count(*) FROM sandbox_services WHERE order_request_id = ANY($1::uuid[]))"
        "   AS backend_services,"
        " (SELECT count(*) FROM services WHERE created_by_order = ANY($1::uuid[]))"
        "   AS services",
        ids,
    )
    assert per_order is not None
    rejected = sum(1 for o in drill if o.expected_code == "ORDER_REJECTED")
    assert per_order["backend_orders"] == len(drill) - rejected
    assert per_order["backend_services"] == per_order["services"] == len(succeeded)
    # One live IPv4 block and VLAN per live service, none shared; failed orders hold none.
    blocks = await pool.fetch(
        "SELECT order_request_id::text AS id, block::text AS block FROM ipv4_allocations"
        " WHERE order_request_id = ANY($1::uuid[]) AND released_at IS NULL",
        ids,
    )
    assert {b["id"] for b in blocks} == succeeded
    assert len({b["block"] for b in blocks}) == len(blocks)
    vlans = await pool.fetch(
        "SELECT order_request_id::text AS id, vlan_id FROM vlan_allocations"
        " WHERE order_request_id = ANY($1::uuid[]) AND released_at IS NULL",
        ids,
    )
    assert {v["id"] for v in vlans} == succeeded
    assert len({v["vlan_id"] for v in vlans}) == len(vlans)  # all at the one seed site
    # The event log: each order's events exactly once, the terminal one matching its state.
    events = await pool.fetch(
        "SELECT order_id, event_type, count(*) AS n FROM order_events"
        " WHERE order_id = ANY($1::text[]) GROUP BY order_id, event_type",
        ids,
    )
    assert [e for e in events if e["n"] != 1] == []
    by_order: dict[str, set[str]] = {}
    for e in events:
        by_order.setdefault(e["order_id"], set()).add(e["event_type"])
    for status in statuses:
        final = "DONE_SUCCESS" if status["state"] == "SUCCEEDED" else "DONE_FAILED"
        assert by_order.get(status["id"]) == {"ORDER_IN_PROGRESS", final}, status["id"]
    # Each quote went to exactly its own order.
    consumed = await pool.fetch(
        "SELECT id, consumed_by FROM quotes WHERE id = ANY($1::text[])", quotes
    )
    assert {q["id"]: q["consumed_by"] for q in consumed} == dict(zip(quotes, ids, strict=True))
    # And in Temporal: one workflow per order, and it completes (its last workflow task
    # may still be on its way when the last row is written: wait for the result).
    limit = asyncio.Semaphore(20)

    async def workflow_status(order_request_id: str) -> str:
        async with limit:
            handle = temporal_client.get_workflow_handle(order_workflow_id(order_request_id))
            await asyncio.wait_for(handle.result(), timeout=60)
            description = await handle.describe()
        assert description.status is not None
        return description.status.name

    closed = await asyncio.gather(*(workflow_status(i) for i in ids))
    assert set(closed) == {"COMPLETED"}, Counter(closed)
    assert worker.killed == DRILL_KILLS, f"only {worker.killed} kills happened"


# ---------------------------------------------------------------------------------------
# Drill 2: restart PostgreSQL under load (a separate embedded server, not the session's).
# ---------------------------------------------------------------------------------------


@dataclass
class Seen:
    """One answer of the API during the drill, with when it came."""

    phase: str
    probe: str
    status: int
    content_type: str
    retry_after: str | None
    body: Any


class Probes:
    """Keeps calling DB-backed endpoints and records every answer, phase by phase."""

    def __init__(self, api: httpx.AsyncClient, headers: dict[str, str], order_ids: list[str]):
        self.api = api
        self.headers = headers
        self.order_ids = order_ids
        self.phase = "before"
        self.seen: list[Seen] = []
        self.post_body: dict[str, Any] | None = None
        self.post_key = str(uuid.uuid4())
        self.created: dict[str, Any] | None = None

    async def _record(self, probe: str, call: Awaitable[httpx.Response]) -> httpx.Response:
        phase = self.phase
        response = await call
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        self.seen.append(
            Seen(
                phase,
                probe,
                response.status_code,
                response.headers.get("content-type", ""),
                response.headers.get("Retry-After"),
                body,
            )
        )
        return response

    async def round(self) -> None:
        api, headers = self.api, self.headers
        calls: list[Awaitable[object]] = [
            self._record("readyz", api.get("/readyz")),
            self._record(
                "token",
                api.post(
                    "/oauth/v2/token",
                    auth=("demo-client", "demo-secret"),
                    data={"grant_type": "client_credentials"},
                ),
            ),
            self._record("inventory", api.get("/ProductInventory/v1/inventory", headers=headers)),
            self._record("feed", api.get("/api/2.3.1/orderevents/", headers=headers)),
            *(
                self._record("status", api.get(f"{ORDER}/{i}", headers=headers))
                for i in self.order_ids
            ),
        ]
        if self.post_body is not None and self.created is None:
            calls.append(self._post())
        await asyncio.gather(*calls)

    async def _post(self) -> None:
        assert self.post_body is not None
        response = await self._record(
            "order",
            self.api.post(
                ORDER,
                headers={**self.headers, "Idempotency-Key": self.post_key},
                json=self.post_body,
            ),
        )
        if response.status_code == 201:
            self.created = response.json()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.round()
            await asyncio.sleep(0.05)

    def summary(self) -> dict[tuple[str, str, int], int]:
        return dict(Counter((s.phase, s.probe, s.status) for s in self.seen))

    def count(self, phase: str, probe: str, status: int) -> int:
        return sum(1 for s in self.seen if (s.phase, s.probe, s.status) == (phase, probe, status))


@pytest.mark.slow
async def test_postgres_restart_under_load(
    tmp_root: Any, settings: Settings, temporal_client: Client
) -> None:
    pg = EmbeddedPostgres(tmp_root / f"drill-pg-{uuid.uuid4().hex[:6]}", database="iod_drill")
    dsn = await asyncio.to_thread(pg.start)
    try:
        conn = await asyncpg.connect(dsn)
        try:
            await migrate(conn)
            await seed_demo(conn)
        finally:
            await conn.close()
        await _restart_drill(pg, dsn, settings, temporal_client)
    finally:
        await asyncio.to_thread(pg.stop)


async def _restart_drill(
    pg: EmbeddedPostgres, dsn: str, settings: Settings, temporal_client: Client
) -> None:
    own = _own_queue(
        settings,
        database_url=dsn,
        sandbox_latency_seconds=0.1,  # SLOW orders: 2 s a step, so they span the outage
        activity_timeout_seconds=10.0,
        activity_max_attempts=30,  # a step retried through the outage, not parked
        retry_initial_interval_seconds=0.2,
        intake_accept_timeout_seconds=5.0,
    )
    in_flight = max(6, DRILL_ORDERS // 20)
    pool = await create_pool(dsn, max_size=10)
    worker = WorkerProcess(own)
    worker.start()
    try:
        async with _api_on(own, pool, temporal_client) as api:
            token = await api.post(
                "/oauth/v2/token",
                auth=("demo-client", "demo-secret"),
                data={"grant_type": "client_credentials"},
            )
            assert token.status_code == 200, token.text
            acme = {"Authorization": f"Bearer {token.json()['access_token']}"}
            quotes = [await new_quote(api, acme) for _ in range(in_flight + 2)]
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 120
            placed = await asyncio.gather(
                *(
                    _submit(api, acme, order_body(q, name=f"Drill SLOW {i}"), deadline)
                    for i, q in enumerate(quotes[:in_flight])
                )
            )
            ids = [p["id"] for p in placed]
            probes = Probes(api, acme, ids)
            # A round of probes while everything is up: all fine.
            await probes.round()
            assert {s.status for s in probes.seen} <= {200, 201}, probes.seen

            stop = asyncio.Event()
            load = asyncio.create_task(probes.run(stop))
            try:
                probes.phase = "stopping"
                await asyncio.to_thread(pg.stop)
                probes.phase = "down"
                # An order POSTed while the database is down, retried with the same key.
                probes.post_body = order_body(quotes[in_flight], name="Drill during the outage")

                async def outage_seen() -> bool:
                    answered = all(
                        probes.count("down", probe, 503) >= 3
                        for probe in ("readyz", "token", "inventory", "feed", "status", "order")
                    )
                    return answered and await _a_step_failed(temporal_client, ids)

                await _eventually(
                    outage_seen,
                    "503s from every probe while down",
                    timeout=60,
                    describe=lambda: probes.summary(),
                )
                probes.phase = "starting"
                assert await asyncio.to_thread(pg.start) == dsn
                probes.phase = "after"

                async def recovered() -> bool:
                    latest = {s.probe: s.status for s in probes.seen if s.phase == "after"}
                    return probes.created is not None and all(
                        latest.get(p) == 200 for p in ("readyz", "token", "inventory", "status")
                    )

                await _eventually(
                    recovered, "the API to recover", timeout=60, describe=lambda: probes.summary()
                )
            finally:
                stop.set()
                await load
            # The orders placed before the outage, and the one placed during it, complete.
            assert probes.created is not None
            finals = [
                await wait_for_status(api, acme, i, timeout=120)
                for i in [*ids, probes.created["id"]]
            ]
            assert [f["state"] for f in finals] == ["SUCCEEDED"] * len(finals), finals
            # A new order after the restart works.
            fresh = await _submit(
                api, acme, order_body(quotes[-1], name="Drill after the restart"), deadline
            )
            done = await wait_for_status(api, acme, fresh["id"], timeout=60)
            assert done["state"] == "SUCCEEDED", done
            # The order POSTed again and again through the outage exists once.
            rows = await pool.fetchval(
                "SELECT count(*) FROM order_requests WHERE external_id = $1",
                probes.post_body["externalId"],
            )
            assert rows == 1
    except BaseException:
        print(worker.log_tail())
        raise
    finally:
        worker.stop()
        await pool.close()

    _check_outage_answers(probes.seen)


async def _all_closed(client: Client, order_request_ids: list[str]) -> None:
    limit = asyncio.Semaphore(20)

    async def closed(order_request_id: str) -> None:
        async with limit:
            handle = client.get_workflow_handle(order_workflow_id(order_request_id))
            await asyncio.wait_for(handle.result(), timeout=120)

    await asyncio.gather(*(closed(i) for i in order_request_ids))


async def _a_step_failed(client: Client, order_request_ids: list[str]) -> bool:
    """Whether some order's activity has failed (and waits for its retry) meanwhile."""
    for order_request_id in order_request_ids:
        handle = client.get_workflow_handle(order_workflow_id(order_request_id))
        description = await handle.describe()
        for pending in description.raw_description.pending_activities:
            if pending.attempt > 1 and pending.HasField("last_failure"):
                return True
    return False


def _check_outage_answers(seen: list[Seen]) -> None:
    """Never a 500: while the database is down, 503 problems with Retry-After. (The feed
    streams its body: its 200 is not sent before it has its connection and snapshot.)"""
    bad = [s for s in seen if s.status not in (200, 201, 503)]
    assert bad == [], bad
    for s in seen:
        if s.status != 503:
            # A feed streaming when the server went away is cut off (a real server
            # aborts the chunked body; the client sees an error, not a short list).
            if s.probe == "feed" and s.phase != "stopping":
                assert isinstance(s.body, list), s
            continue
        assert s.retry_after is not None and int(s.retry_after) > 0, s
        if s.probe == "readyz":
            assert s.body["status"] == "not ready", s
            assert s.body["checks"]["postgres"] != "ok", s
            continue
        assert s.content_type.startswith("application/problem+json"), s
        assert s.body["status"] == 503 and s.body["title"] and s.body["detail"], s
        assert s.body["errors"] and all(e["code"] and e["message"] for e in s.body["errors"]), s
        assert "Traceback" not in str(s.body), s
    down = [s for s in seen if s.phase == "down"]
    assert down and all(s.status == 503 for s in down), [s for s in down if s.status != 503]


# ---------------------------------------------------------------------------------------
# Drill 3: Temporal unreachable.
# ---------------------------------------------------------------------------------------

# Generous: the SDK retries an unavailable server for up to 10 s before it gives up.
UNAVAILABLE_WITHIN_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _start_temporal(port: int) -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=temporal_cli_path(),
        search_attributes=ALL_KEYS,
        dev_server_log_level="error",
        port=port,
    )


async def _post_refused_quickly(
    api: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], key: str
) -> dict[str, Any]:
    """The POST answers 503 (problem, Retry-After) within the bound, and holds nothing."""
    started = time.monotonic()
    response = await api.post(ORDER, headers={**headers, "Idempotency-Key": key}, json=body)
    elapsed = time.monotonic() - started
    problem = assert_problem(response, 503)
    assert int(response.headers["Retry-After"]) > 0
    assert elapsed < UNAVAILABLE_WITHIN_SECONDS, f"503 only after {elapsed:.1f}s"
    assert "Traceback" not in response.text
    return problem


async def _nothing_half_done(pool: asyncpg.Pool, body: dict[str, Any]) -> None:
    quote_id = body["quote"][0]["id"]
    consumed = await pool.fetchval("SELECT consumed_by FROM quotes WHERE id = $1", quote_id)
    assert consumed is None, "the quote was consumed by an order that does not exist"
    states = await pool.fetch(
        "SELECT state FROM order_requests WHERE customer_number = '1-ABCDE' AND external_id = $1",
        body["externalId"],
    )
    # At most the intake record, not yet accepted: a retry attaches to it.
    assert [r["state"] for r in states] in ([], ["PENDING"]), states


async def _reads_still_work(
    api: httpx.AsyncClient, headers: dict[str, str], order_request_id: str | None = None
) -> None:
    """Status, inventory and the event feed come from PostgreSQL: they need no Temporal."""
    if order_request_id is not None:
        status = await api.get(f"{ORDER}/{order_request_id}", headers=headers)
        assert status.status_code == 200, status.text
        assert status.json()["state"] == "SUCCEEDED", status.text
    for path in ("/ProductInventory/v1/inventory", "/api/2.3.1/orderevents/"):
        response = await api.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)


async def _retry_creates_once(
    api: httpx.AsyncClient,
    pool: asyncpg.Pool,
    headers: dict[str, str],
    body: dict[str, Any],
    key: str,
) -> None:
    retried = await api.post(ORDER, headers={**headers, "Idempotency-Key": key}, json=body)
    assert retried.status_code == 201, retried.text
    again = await api.post(ORDER, headers={**headers, "Idempotency-Key": key}, json=body)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == retried.json()["id"]
    done = await wait_for_status(api, headers, retried.json()["id"], timeout=60)
    assert done["state"] == "SUCCEEDED", done
    rows = await pool.fetch(
        "SELECT id::text AS id FROM order_requests WHERE customer_number = '1-ABCDE'"
        " AND external_id = $1",
        body["externalId"],
    )
    assert [r["id"] for r in rows] == [retried.json()["id"]]
    consumed = await pool.fetchval(
        "SELECT consumed_by FROM quotes WHERE id = $1", body["quote"][0]["id"]
    )
    assert consumed == retried.json()["id"]


async def test_temporal_never_reachable_is_a_quick_503(
    settings: Settings,
    pool: asyncpg.Pool,
    temporal_client: Client,
    http_client: httpx.AsyncClient,
    acme: dict[str, str],
) -> None:
    """An API whose (lazily connecting) Temporal client points at a port nobody serves."""
    own = _own_queue(settings)
    dead = await connect_temporal(f"127.0.0.1:{_free_port()}", own.temporal_namespace, lazy=True)
    async with _api_on(own, pool, dead) as api:
        ready = await api.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["temporal"] != "ok"
        assert ready.json()["checks"]["postgres"] == "ok"
        body = order_body(await new_quote(api, acme), name="Drill no Temporal")
        key = str(uuid.uuid4())
        for _ in range(2):  # and again: still a 503, the record does not get in the way
            await _post_refused_quickly(api, acme, body, key)
            await _nothing_half_done(pool, body)
        await _reads_still_work(api, acme)
    # "Temporal is back": an API with a working client, and a worker.
    async with (
        _api_on(own, pool, temporal_client) as api,
        build_worker(temporal_client, pool, http_client, own),
    ):
        await _retry_creates_once(api, pool, acme, body, key)


@pytest.mark.slow
async def test_temporal_stopped_and_restarted(
    settings: Settings,
    pool: asyncpg.Pool,
    http_client: httpx.AsyncClient,
    acme: dict[str, str],
) -> None:
    """A separate Temporal dev server goes away under a connected API, then comes back."""
    port = _free_port()
    running: WorkflowEnvironment | None = await _start_temporal(port)
    try:
        own = _own_queue(settings, temporal_address=f"127.0.0.1:{port}")
        client = await connect_temporal(f"127.0.0.1:{port}", own.temporal_namespace)
        async with _api_on(own, pool, client) as api:
            # Working first: an order goes through.
            async with build_worker(client, pool, http_client, own):
                deadline = asyncio.get_running_loop().time() + 60
                first = await _submit(api, acme, order_body(await new_quote(api, acme)), deadline)
                assert (await wait_for_status(api, acme, first["id"]))["state"] == "SUCCEEDED"
            assert running is not None
            await running.shutdown()
            running = None

            async def not_ready() -> bool:
                return (await api.get("/readyz")).status_code == 503

            await _eventually(not_ready, "/readyz to report Temporal down", timeout=30)
            body = order_body(await new_quote(api, acme), name="Drill Temporal down")
            key = str(uuid.uuid4())
            await _post_refused_quickly(api, acme, body, key)
            await _nothing_half_done(pool, body)
            await _reads_still_work(api, acme, first["id"])

            running = await _start_temporal(port)  # back, on the same address

            async def ready() -> bool:
                return (await api.get("/readyz")).status_code == 200

            await _eventually(ready, "/readyz to report Temporal back", timeout=30)
            async with build_worker(client, pool, http_client, own):
                await _retry_creates_once(api, pool, acme, body, key)
    finally:
        if running is not None:
            await running.shutdown()

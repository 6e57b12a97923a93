"""Orders survive workers that are down or killed; status answers without any worker."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from api.main import create_app
from config.settings import Settings
from tests.ordering import new_quote, order_body, place_order, wait_for_status
from tests.problems import assert_problem
from tests.worker_process import spawn_worker
from worker.main import build_worker

ORDER = "/Customer/v3/Ordering/orderRequest"


def _own_queue(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update={"task_queue": f"iod-test-{uuid.uuid4().hex[:8]}", **changes})


@asynccontextmanager
async def _api_on(
    settings: Settings, pool: asyncpg.Pool, client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, pool=pool, temporal=client)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://iod.test") as api:
        yield api


async def test_status_is_answered_while_no_worker_runs(
    settings: Settings,
    pool: asyncpg.Pool,
    temporal_client: Client,
    http_client: httpx.AsyncClient,
    acme: dict[str, str],
) -> None:
    own = _own_queue(settings)
    async with _api_on(own, pool, temporal_client) as api:
        worker = build_worker(temporal_client, pool, http_client, own)
        async with worker:
            quote_id = await new_quote(api, acme)
            created = await place_order(api, acme, order_body(quote_id, name="SLOW"))
        # The worker is gone now: status still comes from the order record.
        status = await api.get(f"{ORDER}/{created['id']}", headers=acme)
        assert status.status_code == 200
        assert status.json()["state"] == "RUNNING"
        assert status.headers["Retry-After"] == "7"
        op = await api.get(f"/Customer/v4/Ordering/operations/{created['id']}", headers=acme)
        assert op.status_code == 200 and op.json()["status"] == "RUNNING"
        # A worker comes back and the order completes.
        async with build_worker(temporal_client, pool, http_client, own):
            done = await wait_for_status(api, acme, created["id"])
        assert done["state"] == "SUCCEEDED", done


async def test_post_without_a_worker_is_503_and_the_retry_gets_the_same_order(
    settings: Settings,
    pool: asyncpg.Pool,
    temporal_client: Client,
    http_client: httpx.AsyncClient,
    acme: dict[str, str],
) -> None:
    own = _own_queue(settings, intake_accept_timeout_seconds=1.0)
    async with _api_on(own, pool, temporal_client) as api:
        quote_id = await new_quote(api, acme)
        body = order_body(quote_id)
        key = {"Idempotency-Key": str(uuid.uuid4())}
        refused = await api.post(ORDER, headers={**acme, **key}, json=body)
        assert_problem(refused, 503)
        assert int(refused.headers["Retry-After"]) > 0
        async with build_worker(temporal_client, pool, http_client, own):
            retried = await api.post(ORDER, headers={**acme, **key}, json=body)
            assert retried.status_code == 201, retried.text
            # The 503 gave the client no order: this answer is the first, not a replay.
            assert "Idempotent-Replayed" not in retried.headers
            done = await wait_for_status(api, acme, retried.json()["id"])
        assert done["state"] == "SUCCEEDED"
        rows = await pool.fetchval(
            "SELECT count(*) FROM order_requests WHERE external_id = $1", body["externalId"]
        )
        assert rows == 1


@pytest.mark.slow
async def test_worker_killed_mid_order_completes_without_duplicates(
    settings: Settings,
    pool: asyncpg.Pool,
    temporal_client: Client,
    acme: dict[str, str],
) -> None:
    own = _own_queue(settings, sandbox_latency_seconds=0.4)
    async with _api_on(own, pool, temporal_client) as api:
        first = spawn_worker(own)
        try:
            quotes = [await new_quote(api, acme) for _ in range(6)]
            created = await asyncio.gather(*(place_order(api, acme, order_body(q)) for q in quotes))
            ids = [c["id"] for c in created]
            # Kill the worker while orders are between steps (some allocated, none done).
            await _wait_until(
                pool,
                ids,
                "SELECT count(*) FROM ipv4_allocations WHERE order_request_id = ANY($1::uuid[])",
                at_least=1,
            )
            first.send_signal(signal.SIGKILL)
            first.wait()
        finally:
            if first.poll() is None:
                first.kill()
        second = spawn_worker(own)
        try:
            finals = [await wait_for_status(api, acme, i, timeout=90) for i in ids]
        finally:
            second.terminate()
            second.wait()
    assert [f["state"] for f in finals] == ["SUCCEEDED"] * len(ids)
    assert len({f["orderId"] for f in finals}) == len(ids)
    assert len({f["serviceId"] for f in finals}) == len(ids)
    blocks = await pool.fetch(
        "SELECT block::text FROM ipv4_allocations WHERE order_request_id = ANY($1::uuid[])"
        " AND released_at IS NULL",
        ids,
    )
    assert len(blocks) == len(ids) == len({b["block"] for b in blocks})
    per_order = await pool.fetchval(
        "SELECT max(c) FROM (SELECT count(*) c FROM sandbox_services"
        " WHERE order_request_id = ANY($1::uuid[]) GROUP BY order_request_id) x",
        ids,
    )
    assert per_order == 1


async def _wait_until(pool: asyncpg.Pool, ids: list[str], sql: str, *, at_least: int) -> None:
    deadline = asyncio.get_running_loop().time() + 60
    while await pool.fetchval(sql, ids) < at_least:
        assert asyncio.get_running_loop().time() < deadline, "orders never progressed"
        await asyncio.sleep(0.02)

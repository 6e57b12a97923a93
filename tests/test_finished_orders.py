"""Finished orders are answered from memory; running ones always from PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from api.finished_orders import FinishedOrders
from api.main import create_app
from config.settings import Settings
from domain.orders import OrderState
from store import orders
from store.orders import OrderRequestRow
from tests.ordering import new_quote, order_body, place_order, wait_for_status

V3 = "/Customer/v3/Ordering/orderRequest"
V4 = "/Customer/v4/Ordering/operations"


def _row(state: OrderState, order_id: str | None = None) -> OrderRequestRow:
    now = datetime.now(UTC)
    return OrderRequestRow(
        id=order_id or str(uuid.uuid4()),
        customer_number="1-ABCDE",
        external_id="X",
        idempotency_key=None,
        action="add",
        channel="v3",
        body={},
        request_hash="h",
        quote_id=None,
        target_service_id=None,
        access_id=None,
        state=state,
        step="completed",
        step_message="",
        order_number=None,
        service_id=None,
        error_code=None,
        error_message=None,
        created_at=now,
        started_at=now,
        completed_at=now,
        updated_at=now,
    )


def test_only_finished_orders_are_kept() -> None:
    finished = FinishedOrders(10)
    running = _row(OrderState.RUNNING)
    finished.remember(running)
    assert finished.get(running.id) is None
    for state in (OrderState.SUCCEEDED, OrderState.FAILED, OrderState.CANCELLED):
        row = _row(state)
        finished.remember(row)
        assert finished.get(row.id) is row


def test_the_least_recently_read_is_dropped_first() -> None:
    finished = FinishedOrders(3)
    a, b, c, d = (_row(OrderState.SUCCEEDED) for _ in range(4))
    for row in (a, b, c):
        finished.remember(row)
    assert finished.get(a.id) is a  # a is now the most recent
    finished.remember(d)
    assert len(finished) == 3
    assert finished.get(b.id) is None
    assert [finished.get(r.id) for r in (a, c, d)] == [a, c, d]


def test_size_zero_keeps_nothing() -> None:
    finished = FinishedOrders(0)
    row = _row(OrderState.SUCCEEDED)
    finished.remember(row)
    assert finished.get(row.id) is None and len(finished) == 0


@pytest.fixture
async def fresh_api(
    settings: Settings, pool: asyncpg.Pool, temporal_client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    """An API process of its own, so its memory starts empty."""
    app = create_app(settings, pool=pool, temporal=temporal_client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fresh") as client:
        yield client


async def _swap_body(pool: asyncpg.Pool, order_id: str, body: str) -> str:
    """Put ``body`` (JSON text) in place of the stored one; returns the old text."""
    async with pool.acquire() as conn, conn.transaction():
        old: str = await conn.fetchval(
            "SELECT body::text FROM order_requests WHERE id = $1::uuid FOR UPDATE", order_id
        )
        await conn.execute(
            "UPDATE order_requests SET body = $2::text::json WHERE id = $1::uuid", order_id, body
        )
    return old


async def test_a_finished_order_is_read_once_from_the_database(
    api: httpx.AsyncClient,
    acme: dict[str, str],
    globex: dict[str, str],
    fresh_api: httpx.AsyncClient,
    settings: Settings,
    pool: asyncpg.Pool,
    temporal_client: Client,
) -> None:
    created = await place_order(api, acme, order_body(await new_quote(api, acme)))
    order_id = created["id"]
    done = await wait_for_status(api, acme, order_id)
    assert done["state"] == "SUCCEEDED"

    first = (await fresh_api.get(f"{V3}/{order_id}", headers=acme)).json()
    original = await _swap_body(pool, order_id, '{"externalId": "CHANGED-BEHIND-THE-API"}')
    try:
        # The same process answers from memory (a finished row can't change, so the
        # edit behind its back is the only way to see where the answer comes from) ...
        again = await fresh_api.get(f"{V3}/{order_id}", headers=acme)
        assert again.status_code == 200 and again.json() == first
        operation = await fresh_api.get(f"{V4}/{order_id}", headers=acme)
        assert operation.status_code == 200 and operation.json()["status"] == "SUCCEEDED"
        # ... never for another customer, who gets the same 404 as for an unknown id ...
        for path in (f"{V3}/{order_id}", f"{V4}/{order_id}"):
            theirs = await fresh_api.get(path, headers=globex)
            unknown = await fresh_api.get(path.replace(order_id, str(uuid.uuid4())), headers=globex)
            assert theirs.status_code == unknown.status_code == 404
            assert theirs.json()["errors"][0]["field"] == unknown.json()["errors"][0]["field"]
        # ... and with the memory turned off, every read goes to the database.
        uncached = create_app(
            settings.model_copy(update={"finished_orders_cached": 0}),
            pool=pool,
            temporal=temporal_client,
        )
        transport = httpx.ASGITransport(app=uncached)
        async with httpx.AsyncClient(transport=transport, base_url="http://nocache") as raw:
            seen = (await raw.get(f"{V3}/{order_id}", headers=acme)).json()
        assert seen["externalId"] == "CHANGED-BEHIND-THE-API"
        assert first["externalId"] == done["externalId"]
    finally:
        await _swap_body(pool, order_id, original)


async def test_a_running_order_is_always_read_from_the_database(
    api: httpx.AsyncClient, acme: dict[str, str], fresh_api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    created = await place_order(api, acme, order_body(await new_quote(api, acme)))
    await wait_for_status(api, acme, created["id"])
    running_id = str(uuid.uuid4())
    async with pool.acquire() as conn:  # a copy of it, still running
        await conn.execute(
            "INSERT INTO order_requests (id, customer_number, external_id, action, channel, body,"
            " request_hash, state, step, created_at, started_at, updated_at)"
            " SELECT $2::uuid, customer_number, 'RUN-' || $2, action, channel, body,"
            " request_hash, 'RUNNING', 'order created', now(), now(), now()"
            " FROM order_requests WHERE id = $1::uuid",
            created["id"],
            running_id,
        )
    try:
        first = await fresh_api.get(f"{V4}/{running_id}", headers=acme)
        assert first.json()["status"] == "RUNNING" and "Retry-After" in first.headers
        async with pool.acquire() as conn:
            await orders.set_step(conn, running_id, "resources allocated", "VLAN 7")
        second = (await fresh_api.get(f"{V4}/{running_id}", headers=acme)).json()
        assert second["metadata"] == {"step": "resources allocated", "message": "VLAN 7"}
        async with pool.acquire() as conn:
            await orders.finish(conn, running_id, OrderState.FAILED, "X", "stopped")
        third = (await fresh_api.get(f"{V3}/{running_id}", headers=acme)).json()
        assert third["state"] == "FAILED" and third["error"]["code"] == "X"
    finally:
        async with pool.acquire() as conn:
            await conn.execute("DELETE FROM order_requests WHERE id = $1::uuid", running_id)


async def test_a_finished_order_is_not_changed_by_a_late_step(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    created = await place_order(api, acme, order_body(await new_quote(api, acme)))
    await wait_for_status(api, acme, created["id"])
    async with pool.acquire() as conn:
        before = await orders.get(conn, created["id"])
        await orders.set_order_number(conn, created["id"], "88999999999")
        await orders.set_service_id(conn, created["id"], "77999999999")
        await orders.set_step(conn, created["id"], "late", "late")
        await orders.finish(conn, created["id"], OrderState.FAILED, "LATE", "late")
        after = await orders.get(conn, created["id"])
    assert before is not None and before.state == OrderState.SUCCEEDED
    assert after == before

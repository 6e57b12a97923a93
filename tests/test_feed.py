"""The Service Activation 2.3.1 order event feed, over HTTP (seed 002's every rule)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from api.routers.orderevents import BATCH_SIZE
from tests.ordering import new_quote, order_body, place_order, wait_for_status
from tests.problems import assert_problem
from tests.test_event_support import FEED, append, eventually, feed, new_customer, order_event


async def test_feed_contract_exclusive_since_ascending_only_done(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    customer = await new_customer(pool)
    assert await feed(api, customer) == []

    expected = []
    for i in range(6):
        order_id = str(uuid.uuid4())
        await append(pool, order_event(customer.number, "ORDER_RECEIVED", order_id=order_id))
        await append(pool, order_event(customer.number, "ORDER_IN_PROGRESS", order_id=order_id))
        final = "DONE_SUCCESS" if i % 2 == 0 else "DONE_FAILED"
        message = "" if final == "DONE_SUCCESS" else "Port is too busy for you"
        record = await append(
            pool, order_event(customer.number, final, order_id=order_id, message=message)
        )
        expected.append(record)

    everything = await feed(api, customer)
    # Only DONE_* events, oldest first, exactly the seed's fields.
    assert [e["event"] for e in everything] == [r.event_id for r in expected]
    assert len({e["event"] for e in everything}) == len(everything)
    for entry, record in zip(everything, expected, strict=True):
        assert set(entry) == {"event", "order"}
        assert list(entry["order"]) == [
            "path",
            "accessId",
            "service",
            "operation",
            "state",
            "message",
        ]
        assert entry["order"] == record.order.model_dump()
        assert entry["order"]["state"] in ("DONE_SUCCESS", "DONE_FAILED")
    assert everything[1]["order"]["message"] == "Port is too busy for you"

    # since is exclusive; the last event read gives the empty answer.
    assert await feed(api, customer, since=everything[2]["event"]) == everything[3:]
    assert await feed(api, customer, since=everything[-1]["event"]) == []

    # since may also be an event the feed doesn't show (one a webhook carried).
    received = await append(pool, order_event(customer.number, "ORDER_RECEIVED"))
    assert await feed(api, customer, since=received.event_id) == []
    assert await feed(api, customer) == everything
    no_slash = await api.get(FEED.rstrip("/"), headers=customer.headers)
    assert no_slash.status_code == 200 and no_slash.json() == everything


async def test_unknown_or_foreign_since_is_400_naming_since(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    mine = await new_customer(pool)
    other = await new_customer(pool)
    theirs = await append(pool, order_event(other.number, "DONE_SUCCESS"))
    await append(pool, order_event(mine.number, "DONE_SUCCESS"))

    for since in (str(uuid.uuid4()), "not-an-event", theirs.event_id, "x" * 500):
        response = await api.get(FEED, headers=mine.headers, params={"since": since})
        body = assert_problem(response, 400, "since")
        assert "since" in body["cause"]


async def test_customers_see_only_their_own_events(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    first, second = await new_customer(pool), await new_customer(pool)
    a = await append(pool, order_event(first.number, "DONE_SUCCESS"))
    b = await append(pool, order_event(second.number, "DONE_FAILED", message="no"))
    assert [e["event"] for e in await feed(api, first)] == [a.event_id]
    assert [e["event"] for e in await feed(api, second)] == [b.event_id]


async def test_feed_requires_a_token(api: httpx.AsyncClient) -> None:
    assert_problem(await api.get(FEED), 401, "Authorization")


async def test_limit_and_bad_extension_values(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    customer = await new_customer(pool)
    records = [await append(pool, order_event(customer.number, "DONE_SUCCESS")) for _ in range(5)]
    page = await feed(api, customer, limit=2)
    assert [e["event"] for e in page] == [r.event_id for r in records[:2]]
    rest = await feed(api, customer, since=page[-1]["event"], limit=100)
    assert [e["event"] for e in rest] == [r.event_id for r in records[2:]]

    for field, value in [("limit", "0"), ("limit", "abc"), ("wait", "31"), ("wait", "-1")]:
        response = await api.get(FEED, headers=customer.headers, params={field: value})
        assert_problem(response, 400, field)


async def test_long_poll_answers_when_the_next_event_is_appended(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    customer = await new_customer(pool)
    first = await append(pool, order_event(customer.number, "DONE_SUCCESS"))
    poll = asyncio.create_task(feed(api, customer, since=first.event_id, wait=25))

    async def waiting() -> bool:
        # The poll is parked once its LISTEN connection exists and it found nothing.
        rows = await pool.fetch(
            "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'LISTEN %iod_order_events%'"
        )
        return bool(rows) and not poll.done()

    await eventually(waiting, "the long poll to wait")
    # Events the feed doesn't show don't end the wait early with an empty answer.
    await append(pool, order_event(customer.number, "ORDER_IN_PROGRESS"))
    second = await append(pool, order_event(customer.number, "DONE_FAILED", message="x"))
    answer = await poll
    assert [e["event"] for e in answer] == [second.event_id]


async def test_long_poll_with_an_event_already_there_answers_at_once(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    customer = await new_customer(pool)
    first = await append(pool, order_event(customer.number, "DONE_SUCCESS"))
    assert [e["event"] for e in await feed(api, customer, wait=30)] == [first.event_id]


async def test_a_long_feed_is_streamed_in_batches_intact(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    """More events than several server-side cursor batches: all there, in order."""
    customer = await new_customer(pool)
    count = BATCH_SIZE * 2 + 37
    async with pool.acquire() as conn:
        # Bulk insert (the append path is tested elsewhere); ids in insertion order.
        ids = [
            r[0]
            for r in await conn.fetch(
                "INSERT INTO order_events (event_id, dedupe_key, customer_number, order_id,"
                " event_type, feed_order, payload)"
                " SELECT gen_random_uuid(), 'bulk-' || $1 || '-' || n, $1, 'o-' || n,"
                " CASE WHEN n % 2 = 0 THEN 'DONE_SUCCESS' ELSE 'DONE_FAILED' END,"
                " json_build_object('path', '/api/2.3.1/orders/o-' || n, 'accessId', 'A' || n,"
                " 'service', 'BB-100-10', 'operation', 'ACTIVATE',"
                " 'state', CASE WHEN n % 2 = 0 THEN 'DONE_SUCCESS' ELSE 'DONE_FAILED' END,"
                " 'message', ''), '{}'::jsonb"
                " FROM generate_series(1, $2) AS n ORDER BY n RETURNING event_id::text",
                customer.number,
                count,
            )
        ]
    streamed = await api.get(FEED, headers=customer.headers)
    assert streamed.status_code == 200
    body = streamed.json()
    assert [e["event"] for e in body] == ids
    assert body[0]["order"]["path"] == "/api/2.3.1/orders/o-1"
    assert body[-1]["order"]["accessId"] == f"A{count}"
    tail = await feed(api, customer, since=ids[BATCH_SIZE])
    assert [e["event"] for e in tail] == ids[BATCH_SIZE + 1 :]


@pytest.mark.slow
async def test_internet_on_demand_orders_appear_with_their_own_path(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    """An order placed through the IoD API ends up in the 2.3.1 feed too."""
    before = (await api.get(FEED, headers=acme)).json()
    since = {"since": before[-1]["event"]} if before else {}
    created = await place_order(api, acme, order_body(await new_quote(api, acme)))
    order_id = created["id"]
    done = await wait_for_status(api, acme, order_id)
    assert done["state"] == "SUCCEEDED", done

    async def appeared() -> list[dict[str, Any]] | None:
        response = await api.get(FEED, headers=acme, params=since)
        mine = [e for e in response.json() if order_id in e["order"]["path"]]
        return mine or None

    [entry] = await eventually(appeared, "the order's DONE event in the feed")
    assert entry["order"]["path"] == f"/Customer/v3/Ordering/orderRequest/{order_id}"
    assert entry["order"]["state"] == "DONE_SUCCESS"
    assert entry["order"]["operation"] == "ACTIVATE"

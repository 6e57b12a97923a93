"""The append-only order event log: idempotent appends, immutability, and the lock that
makes commit order equal ``seq`` order per customer (the feed's prefix property)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from temporalio.client import Client

from config.settings import Settings
from store import events
from tests.test_event_support import Appender, append, eventually, new_customer, order_event


async def test_same_dedupe_key_is_the_same_event(pool: asyncpg.Pool) -> None:
    customer = await new_customer(pool)
    event = order_event(customer.number, "DONE_SUCCESS")
    first = await append(pool, event)
    again = await append(pool, event)
    assert again == first
    concurrent = await asyncio.gather(*(append(pool, event) for _ in range(10)))
    assert {r.event_id for r in concurrent} == {first.event_id}
    count = await pool.fetchval(
        "SELECT count(*) FROM order_events WHERE dedupe_key = $1", event.dedupe_key
    )
    assert count == 1
    assert first.customer_number == customer.number
    assert first.order == event.order and first.payload == event.payload


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE order_events SET event_type = 'DONE_FAILED' WHERE seq = $1",
        "DELETE FROM order_events WHERE seq = $1",
        "TRUNCATE order_events",
    ],
    ids=["update", "delete", "truncate"],
)
async def test_events_can_not_be_changed_or_removed(pool: asyncpg.Pool, statement: str) -> None:
    customer = await new_customer(pool)
    record = await append(pool, order_event(customer.number, "DONE_SUCCESS"))
    args = [record.seq] if "$1" in statement else []
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await pool.execute(statement, *args)
    async with pool.acquire() as conn:
        assert await events.get_by_seq(conn, customer.number, record.seq) == record


async def test_a_later_append_waits_for_the_earlier_commit(pool: asyncpg.Pool) -> None:
    """The mechanism behind the prefix property, step by step."""
    customer = await new_customer(pool)
    other = await new_customer(pool)
    async with pool.acquire() as a_conn:
        a_tx = a_conn.transaction()
        await a_tx.start()
        a = await events.append_event(a_conn, order_event(customer.number, "DONE_SUCCESS"))
        # A is appended but not committed. B, for the same customer, must wait for it.
        b_task = asyncio.create_task(append(pool, order_event(customer.number, "DONE_FAILED")))

        async def b_is_waiting_for_the_lock() -> bool:
            rows = await pool.fetch(
                "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND pid IN (SELECT pid FROM pg_stat_activity WHERE query LIKE"
                " '%pg_advisory_xact_lock%' AND wait_event_type = 'Lock')"
            )
            return bool(rows)

        await eventually(b_is_waiting_for_the_lock, "B to wait for A's lock")
        assert not b_task.done()
        # Another customer's append is not held up.
        elsewhere = await append(pool, order_event(other.number, "DONE_SUCCESS"))
        assert elsewhere.seq > a.seq
        async with pool.acquire() as reader:
            assert await events.max_seq(reader, customer.number) == 0  # nothing visible yet
        await a_tx.commit()
    b = await b_task
    assert b.seq > a.seq  # drawn after A committed: seq order is commit order


async def test_the_activity_appends_once_and_returns_the_record(
    pool: asyncpg.Pool, settings: Settings, temporal_client: Client
) -> None:
    customer = await new_customer(pool)
    append_activity = Appender(pool, settings, temporal_client)
    event = order_event(customer.number, "ORDER_RECEIVED")
    first = await append_activity(event)
    assert await append_activity(event) == first
    async with pool.acquire() as conn:
        trail = await events.list_for_order(conn, customer.number, event.order_id)
    assert trail == [first]

"""The feed only grows, even while many orders complete at once (seed 002).

Writers append concurrently (some holding their transaction open a little longer, as a
slow commit would); readers keep reading the whole feed and polling with `since`.
Every answer must be a prefix of every later one, and the incremental polls must add
up to the final feed: no event may become visible behind one already served.
"""

from __future__ import annotations

import asyncio
import itertools
import random

import asyncpg
import httpx

from store import events
from tests.test_event_support import Customer, feed, new_customer, order_event

WRITERS = 8
ORDERS_PER_WRITER = 15


async def _writer(pool: asyncpg.Pool, customer: str, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(ORDERS_PER_WRITER):
        received = order_event(customer, "ORDER_RECEIVED")
        final = rng.choice(["DONE_SUCCESS", "DONE_FAILED"])
        done = order_event(customer, final, order_id=received.order_id)
        async with pool.acquire() as conn:
            await events.append_event(conn, received)
            async with conn.transaction():
                await events.append_event(conn, done)
                if rng.random() < 0.5:
                    # A slow commit: the appended event stays invisible a while longer.
                    await conn.execute("SELECT pg_sleep($1)", rng.random() / 100)


async def _reader(
    api: httpx.AsyncClient, customer: Customer, writing: asyncio.Event
) -> tuple[list[list[str]], list[str]]:
    """Full answers over time, and the concatenation of incremental `since` polls."""
    answers: list[list[str]] = []
    polled: list[str] = []
    while True:
        finished = writing.is_set()  # read before: the last round sees everything
        answers.append([e["event"] for e in await feed(api, customer)])
        more = await feed(api, customer, since=polled[-1] if polled else None)
        polled.extend(e["event"] for e in more)
        if finished:
            return answers, polled


async def test_every_answer_is_a_prefix_of_every_later_one(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    customer = await new_customer(pool)
    writing_done = asyncio.Event()
    readers = [asyncio.create_task(_reader(api, customer, writing_done)) for _ in range(3)]
    await asyncio.gather(*(_writer(pool, customer.number, seed) for seed in range(WRITERS)))
    writing_done.set()
    results = await asyncio.gather(*readers)

    final = [e["event"] for e in await feed(api, customer)]
    assert len(final) == WRITERS * ORDERS_PER_WRITER
    assert len(set(final)) == len(final)
    # Ascending: the feed's order is the log's order.
    in_log_order = [
        r[0]
        for r in await pool.fetch(
            "SELECT event_id::text FROM order_events WHERE customer_number = $1"
            " AND event_type IN ('DONE_SUCCESS', 'DONE_FAILED') ORDER BY seq",
            customer.number,
        )
    ]
    assert final == in_log_order

    for answers, polled in results:
        assert len(answers) >= 2
        for earlier, later in itertools.pairwise(answers):
            assert later[: len(earlier)] == earlier, "an answer was not a prefix of a later one"
        assert answers[-1] == final
        # Polling with the last event read never skips one: the pieces add up.
        assert polled == final

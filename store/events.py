"""The append-only order event log.

Why a reader never sees an event appear *before* one it already returned (the feed's
prefix property, seed 002): every append first takes a transaction-scoped advisory
lock for its customer and only then draws ``seq`` (an identity column). The lock is
held until the appending transaction has committed, and PostgreSQL makes a commit
visible before it releases the transaction's locks, so a customer's events become
visible strictly in ``seq`` order. Any snapshot therefore sees exactly the events up to
some ``seq``, and everything committed later has a larger ``seq``: a response is always
a prefix of every later response. Appends of different customers don't contend.
Subscribing to webhooks takes the same lock (see :func:`lock_customer`).
"""

from __future__ import annotations

import json
import uuid
from typing import NamedTuple

import asyncpg

from domain.events import FEED_EVENT_TYPES, AppendOrderEventInput, OrderEventRecord
from store.conn import Conn

NOTIFY_CHANNEL = "iod_order_events"
"""``NOTIFY`` on every new event (payload: the customer number), sent at commit."""

_LOCK_CLASS = 0x10DE  # first key of the two-int advisory lock space used for event appends

_COLUMNS = (
    "seq, event_id::text AS event_id, dedupe_key, customer_number, order_id, event_type,"
    " feed_order, payload, created_at"
)


async def lock_customer(conn: Conn, customer_number: str) -> None:
    """Serialise with the customer's appends until the current transaction ends."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))", _LOCK_CLASS, customer_number
    )


async def append_event(conn: Conn, event: AppendOrderEventInput) -> OrderEventRecord:
    """Append once: a repeat with the same ``dedupe_key`` returns the stored event.

    Inside a transaction, the event commits with the caller's other writes (and the
    customer's lock is held until then); outside one, it is a transaction of its own.
    """
    if not conn.is_in_transaction():
        async with conn.transaction():
            return await _append(conn, event)
    return await _append(conn, event)


async def _append(conn: Conn, event: AppendOrderEventInput) -> OrderEventRecord:
    await lock_customer(conn, event.customer_number)
    # One round trip: insert unless already stored, and NOTIFY (sent at commit) only when
    # this call stored it. ``seq`` is drawn under the lock, in the insert.
    row = await conn.fetchrow(
        "WITH new AS (INSERT INTO order_events (event_id, dedupe_key, customer_number,"
        " order_id, event_type, feed_order, payload) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        f" ON CONFLICT (dedupe_key) DO NOTHING RETURNING {_COLUMNS})"
        " SELECT new.* FROM new, LATERAL (SELECT pg_notify($8, new.customer_number)) AS sent",
        uuid.uuid4(),
        event.dedupe_key,
        event.customer_number,
        event.order_id,
        event.event_type,
        event.order.model_dump(mode="json"),
        event.payload,
        NOTIFY_CHANNEL,
    )
    if row is None:  # appended before (a retried step): the stored event
        row = await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM order_events WHERE dedupe_key = $1", event.dedupe_key
        )
    assert row is not None
    return _record(row)


async def find_seq(conn: Conn, customer_number: str, event_id: str) -> int | None:
    """The ``seq`` of one of the customer's events; None if unknown or someone else's."""
    try:
        parsed = uuid.UUID(event_id)
    except ValueError:
        return None
    seq: int | None = await conn.fetchval(
        "SELECT seq FROM order_events WHERE event_id = $1 AND customer_number = $2",
        parsed,
        customer_number,
    )
    return seq


async def max_seq(conn: Conn, customer_number: str) -> int:
    found: int | None = await conn.fetchval(
        "SELECT max(seq) FROM order_events WHERE customer_number = $1", customer_number
    )
    return found or 0


# The feed's event types written into the SQL, so that the planner uses the partial index
# ``order_events_feed`` (``WHERE event_type IN ('DONE_SUCCESS', 'DONE_FAILED')``) in every
# plan: with the list as a parameter, a cached generic plan cannot prove the index's
# predicate and scans the customer's whole log range instead.
assert all(t.replace("_", "").isalpha() and t.isupper() for t in FEED_EVENT_TYPES)
_IS_FEED_EVENT = "event_type IN (" + ", ".join(f"'{t}'" for t in FEED_EVENT_TYPES) + ")"


async def feed_exists_after(conn: Conn, customer_number: str, after_seq: int) -> bool:
    found = await conn.fetchval(
        f"SELECT 1 FROM order_events WHERE customer_number = $1 AND seq > $2"
        f" AND {_IS_FEED_EVENT} LIMIT 1",
        customer_number,
        after_seq,
    )
    return found is not None


class FeedBatch(NamedTuple):
    entries: list[str]
    """Each a feed entry as JSON text, ``{"event": …, "order": …}``."""
    last_seq: int
    """The ``seq`` of the last entry (the one given when there is none): where to go on."""


async def feed_batch(conn: Conn, customer_number: str, after_seq: int, limit: int) -> FeedBatch:
    """The customer's next ``limit`` feed entries after ``after_seq``, in ``seq`` order.

    The stored ``feed_order`` JSON is passed through as text. Reading a long feed batch
    after batch (each from the last ``seq`` of the one before) needs no transaction:
    every statement sees a prefix of the customer's events (see the module docstring),
    each a longer one than the statement before, so the batches join into a prefix too.
    """
    rows = await conn.fetch(
        "SELECT seq, event_id::text, feed_order::text FROM order_events"
        f" WHERE customer_number = $1 AND seq > $2 AND {_IS_FEED_EVENT}"
        " ORDER BY seq LIMIT $3",
        customer_number,
        after_seq,
        limit,
    )
    entries = ['{"event":%s,"order":%s}' % (json.dumps(r[1]), r[2]) for r in rows]  # noqa: UP031
    return FeedBatch(entries, rows[-1][0] if rows else after_seq)


async def refs_after(
    conn: Conn, customer_number: str, after_seq: int, limit: int
) -> list[tuple[int, str, str]]:
    """``(seq, event_id, event_type)`` of every event type in ``seq`` order: what webhook
    deliveries walk through."""
    rows = await conn.fetch(
        "SELECT seq, event_id::text, event_type FROM order_events"
        " WHERE customer_number = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        customer_number,
        after_seq,
        limit,
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def list_after(
    conn: Conn, customer_number: str, after_seq: int, limit: int
) -> list[OrderEventRecord]:
    """Every event type, in ``seq`` order."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM order_events WHERE customer_number = $1 AND seq > $2"
        " ORDER BY seq LIMIT $3",
        customer_number,
        after_seq,
        limit,
    )
    return [_record(r) for r in rows]


async def get_by_seq(conn: Conn, customer_number: str, seq: int) -> OrderEventRecord | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM order_events WHERE seq = $1 AND customer_number = $2",
        seq,
        customer_number,
    )
    return _record(row) if row else None


async def list_for_order(conn: Conn, customer_number: str, order_id: str) -> list[OrderEventRecord]:
    """The audit trail of one order: all its events, oldest first."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM order_events WHERE customer_number = $1 AND order_id = $2"
        " ORDER BY seq",
        customer_number,
        order_id,
    )
    return [_record(r) for r in rows]


def _record(row: asyncpg.Record) -> OrderEventRecord:
    data = dict(row)
    data["order"] = data.pop("feed_order")
    return OrderEventRecord.model_validate(data)

"""Service Activation API 2.3.1 order event feed (seed 002).

`GET /api/2.3.1/orderevents/?since=<event>`: the caller's DONE_SUCCESS / DONE_FAILED
events after `since`, oldest first, read from the append-only event log. Why the answer
only ever grows (each answer is a prefix of every later one): see ``store/events.py``.
An answer that fits in one batch of entries (what a client following the feed gets) is
read with one query and sent as is; a longer one is streamed batch by batch, so memory
stays constant however long the feed. Extensions: `limit`, and `wait` (long poll: with no
event yet after `since`, answer as soon as one is appended, at most `wait` seconds),
woken by PostgreSQL LISTEN/NOTIFY.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated

import asyncpg
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import WithJsonSchema
from starlette.background import BackgroundTask

from api.deps import PoolDep, PrincipalDep, SettingsDep
from api.openapi import sa_problems
from api.problems import ErrorItem, Problem
from domain.events import FeedEvent
from store import events
from store.conn import Conn

log = logging.getLogger(__name__)

FEED_PATH = "/api/2.3.1/orderevents/"
BATCH_SIZE = 2000
MAX_LIMIT = 100_000
MAX_WAIT_SECONDS = 30
RECHECK_SECONDS = 5.0
"""A long poll re-reads the log this often even without a notification (safety net)."""


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    notifier: FeedNotifier | None = getattr(app.state, "feed_notifier", None)
    if notifier is not None:
        await notifier.close()


router = APIRouter(tags=["Service Activation 2.3.1"], lifespan=_lifespan)


class FeedNotifier:
    """One LISTEN connection per API process; wakes the long polls of a customer when
    an event of theirs is committed (``NOTIFY`` from :func:`store.events.append_event`)."""

    def __init__(self, dsn: str | None) -> None:
        self._dsn = dsn
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()
        self._waiters: dict[str, set[asyncio.Event]] = {}

    async def _ensure_listening(self) -> None:
        if self._dsn is None:
            return
        async with self._lock:
            if self._conn is not None and not self._conn.is_closed():
                return
            try:
                conn = await asyncpg.connect(self._dsn)
                await conn.add_listener(events.NOTIFY_CHANNEL, self._notified)
            except (OSError, asyncpg.PostgresError) as err:
                log.warning("feed notifications unavailable (%s); long polls re-check", err)
                return
            self._conn = conn

    def _notified(self, _conn: object, _pid: int, _channel: str, customer: object) -> None:
        for waiter in self._waiters.get(str(customer), ()):
            waiter.set()

    @contextlib.asynccontextmanager
    async def watch(self, customer_number: str) -> AsyncIterator[asyncio.Event]:
        """An event set when the customer's log grows (registered before you look)."""
        await self._ensure_listening()
        waiter = asyncio.Event()
        self._waiters.setdefault(customer_number, set()).add(waiter)
        try:
            yield waiter
        finally:
            waiting = self._waiters.get(customer_number)
            if waiting is not None:
                waiting.discard(waiter)
                if not waiting:
                    del self._waiters[customer_number]

    async def close(self) -> None:
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()
        self._conn = None


def _notifier(request: Request, dsn: str | None) -> FeedNotifier:
    state = request.app.state
    notifier: FeedNotifier | None = getattr(state, "feed_notifier", None)
    if notifier is None:
        notifier = state.feed_notifier = FeedNotifier(dsn)
    return notifier


def _cause(message: str, field: str) -> Problem:
    """The 2.3.1 dialect's ``cause`` member, inside the platform's problem format."""
    return Problem(
        400,
        message,
        errors=[ErrorItem(code="invalid", message=message, field=field)],
        extensions={"cause": message},
    )


def _int_param(raw: str | None, field: str, low: int, high: int) -> int | None:
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _cause(f"{field} must be a whole number", field) from None
    if not low <= value <= high:
        raise _cause(f"{field} must be between {low} and {high}", field)
    return value


@router.get(FEED_PATH.rstrip("/"), include_in_schema=False)
@router.get(
    FEED_PATH,
    summary="Order events since an event (only DONE_SUCCESS / DONE_FAILED)",
    response_model=list[FeedEvent],
    responses=sa_problems({400: "Unknown `since`, or a bad `limit` / `wait`"}),
)
async def order_events(
    request: Request,
    principal: PrincipalDep,
    pool: PoolDep,
    settings: SettingsDep,
    since: Annotated[
        str | None,
        Query(description="The last event read; only later events are returned. None: all."),
    ] = None,
    limit: Annotated[
        str | None,
        WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
        Query(description=f"Extension: at most this many events (1-{MAX_LIMIT})"),
    ] = None,
    wait: Annotated[
        str | None,
        WithJsonSchema({"type": "integer", "minimum": 0, "maximum": MAX_WAIT_SECONDS}),
        Query(
            description="Extension (long poll): with no event after `since` yet, wait up to "
            f"this many seconds (0-{MAX_WAIT_SECONDS}) for one"
        ),
    ] = None,
) -> Response:
    """All of the caller's order events after `since` (exclusive), oldest first; use the
    last `event` read as the next `since`. Events never change and are never removed,
    so an answer is always a prefix of any later answer."""
    max_items = _int_param(limit, "limit", 1, MAX_LIMIT)
    wait_seconds = _int_param(wait, "wait", 0, MAX_WAIT_SECONDS) or 0
    customer = principal.customer_number
    first_size = BATCH_SIZE if max_items is None else min(BATCH_SIZE, max_items)
    # The first batch is read before answering (a database that is down is a 503 problem,
    # not an empty 200), on the connection that looked up `since`.
    async with pool.acquire() as conn:
        after_seq = await _after_seq(conn, customer, since)
        first = await events.feed_batch(conn, customer, after_seq, first_size)
    if not first.entries and wait_seconds > 0:
        await _wait_for_event(
            request, pool, settings.database_url, customer, after_seq, wait_seconds
        )
        async with pool.acquire() as conn:
            first = await events.feed_batch(conn, customer, after_seq, first_size)
    headers = {"Cache-Control": "no-store"}
    if len(first.entries) < first_size or max_items == first_size:
        # The whole answer is here (the usual one: a client following the feed).
        return Response(_array(first.entries), media_type="application/json", headers=headers)
    rest = None if max_items is None else max_items - first_size
    stream = _stream(pool, customer, first, rest)
    return StreamingResponse(
        stream,
        media_type="application/json",
        headers=headers,
        background=BackgroundTask(stream.aclose),
    )


async def _after_seq(conn: Conn, customer: str, since: str | None) -> int:
    if since is None:
        return 0
    found = await events.find_seq(conn, customer, since)
    if found is None:
        raise _cause(f"since: unknown event {since[:100]}", "since")
    return found


def _array(entries: list[str]) -> bytes:
    return b"[" + ",\n".join(entries).encode() + b"]\n"


async def _wait_for_event(
    request: Request,
    pool: asyncpg.Pool,
    dsn: str | None,
    customer: str,
    after_seq: int,
    seconds: int,
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    async with _notifier(request, dsn).watch(customer) as appended:
        while True:
            appended.clear()
            async with pool.acquire() as conn:
                if await events.feed_exists_after(conn, customer, after_seq):
                    return
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(appended.wait(), timeout=min(remaining, RECHECK_SECONDS))


async def _stream(
    pool: asyncpg.Pool, customer: str, first: events.FeedBatch, limit: int | None
) -> AsyncGenerator[bytes, None]:
    """``[item,item,…]`` written batch by batch after ``first``, at most ``limit`` more.

    Each batch takes a pooled connection only while it is read: a slow reader of a long
    feed holds none, and memory stays at one batch however long the feed.
    """
    yield b"[" + ",\n".join(first.entries).encode()
    after_seq = first.last_seq
    while limit is None or limit > 0:
        size = BATCH_SIZE if limit is None else min(BATCH_SIZE, limit)
        async with pool.acquire() as conn:
            batch = await events.feed_batch(conn, customer, after_seq, size)
        if batch.entries:
            yield b",\n" + ",\n".join(batch.entries).encode()
        if len(batch.entries) < size:
            break
        after_seq = batch.last_seq
        if limit is not None:
            limit -= size
    yield b"]\n"

"""Webhook delivery rate: events per second signed and delivered, in order, to a local
receiver, by one subscription and by several at once.

The subscriptions are made through the API (the settings allow a plain-http loopback
callback), then a backlog of events is appended (in bulk, see :mod:`benchmarks.feed`)
and every subscription is asked to deliver it (``redeliver``). The receiver verifies
every signature (Standard Webhooks) and checks, per subscription, that every expected
event arrived, in log order, and counts duplicates. The time runs from the redeliver
requests to the last event received.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import uvicorn
from standardwebhooks import Webhook

from benchmarks.feed import CUSTOMER, grow_event_log
from benchmarks.harness import System, token


@dataclass
class _Inbox:
    verifier: Webhook
    expected: int
    received: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    duplicates: int = 0
    bad_signatures: int = 0


class Receiver:
    """A tiny ASGI app: ``POST /hook/{name}`` verified against that inbox, answered 204."""

    def __init__(self) -> None:
        self.inboxes: dict[str, _Inbox] = {}
        self.all_arrived = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        inbox = self.inboxes.get(scope["path"].rsplit("/", 1)[-1])
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if inbox is not None:
            try:
                inbox.verifier.verify(body, headers)
            except Exception:
                inbox.bad_signatures += 1
            else:
                event_id = json.loads(body)["eventId"]
                if event_id in inbox.seen:
                    inbox.duplicates += 1
                else:
                    inbox.seen.add(event_id)
                    inbox.received.append(event_id)
                if all(len(i.received) >= i.expected for i in self.inboxes.values()):
                    self.all_arrived.set()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def delivery_rate(system: System, events: int, subscriptions: int) -> dict[str, Any]:
    """``events`` new events delivered to each of ``subscriptions`` subscriptions."""
    receiver = Receiver()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(receiver, host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    created: list[dict[str, Any]] = []
    try:
        async with httpx.AsyncClient(base_url=system.base_url, timeout=60) as http:
            headers = await token(http, system.base_url)
            before = await _last_event(system.database_url)
            orders = -(-events // 2)  # each appends two events to the log, one of them to the feed
            await grow_event_log(
                system.database_url, await _feed_events(system.database_url) + orders
            )
            expected = await _event_ids_after(system.database_url, before)
            # Subscribed after the events were appended (a new subscription starts at the
            # end of the log), so only the redelivery below sends them: otherwise the
            # subscription's own polling could start on them before the redelivery
            # rewinds it, and the receiver would see the first ones second.
            for n in range(subscriptions):
                answer = await http.post(
                    "/hub",
                    headers=headers,
                    json={"callback": f"http://127.0.0.1:{port}/hook/{n}"},
                )
                assert answer.status_code == 201, answer.text
                created.append(answer.json())
            for n, sub in enumerate(created):
                receiver.inboxes[str(n)] = _Inbox(Webhook(sub["secret"]), len(expected))
            started = time.perf_counter()
            for sub in created:
                replay = await http.post(
                    f"/hub/{sub['id']}/redeliver", headers=headers, params={"since": before}
                )
                assert replay.status_code == 202, replay.text
            await asyncio.wait_for(receiver.all_arrived.wait(), timeout=1200)
            elapsed = time.perf_counter() - started
            for sub in created:  # stop them: later benchmarks append events too
                await http.delete(f"/hub/{sub['id']}", headers=headers)
    finally:
        server.should_exit = True
        await serving
    for name, inbox in receiver.inboxes.items():
        assert inbox.received == expected, (
            f"subscription {name}: {len(inbox.received)} of {len(expected)} events, "
            f"in order: {inbox.received == expected[: len(inbox.received)]}"
        )
    delivered = len(expected) * subscriptions
    return {
        "subscriptions": subscriptions,
        "events": len(expected),
        "deliveries": delivered,
        "seconds": elapsed,
        "events_per_second": delivered / elapsed,
        "lost": 0,
        "out_of_order": 0,
        "duplicates": sum(i.duplicates for i in receiver.inboxes.values()),
        "bad_signatures": sum(i.bad_signatures for i in receiver.inboxes.values()),
    }


async def _feed_events(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM order_events WHERE customer_number = $1"
            " AND event_type IN ('DONE_SUCCESS', 'DONE_FAILED')",
            CUSTOMER,
        )
    finally:
        await conn.close()
    return count


async def _last_event(database_url: str) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        event_id: str = await conn.fetchval(
            "SELECT event_id::text FROM order_events WHERE customer_number = $1"
            " ORDER BY seq DESC LIMIT 1",
            CUSTOMER,
        )
    finally:
        await conn.close()
    return event_id


async def _event_ids_after(database_url: str, event_id: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT event_id::text FROM order_events WHERE customer_number = $1 AND seq >"
            " (SELECT seq FROM order_events WHERE event_id = $2::uuid) ORDER BY seq",
            CUSTOMER,
            event_id,
        )
    finally:
        await conn.close()
    return [r["event_id"] for r in rows]

"""Webhook delivery rate: events per second signed and delivered, in order, to a local receiver.

The receiver verifies every signature (Standard Webhooks) and checks that events arrive
in log order; the benchmark counts the time from asking for the events to the last one
received.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import asyncpg
import httpx
import uvicorn
from standardwebhooks import Webhook

from benchmarks.feed import CUSTOMER, grow_event_log
from benchmarks.harness import System, token


class Receiver:
    """A tiny ASGI app: verifies, records the order of arrival, answers 204."""

    def __init__(self) -> None:
        self.verifier: Webhook | None = None
        self.received: list[str] = []
        self.bad_signatures = 0
        self.all_arrived = asyncio.Event()
        self.expected = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        try:
            assert self.verifier is not None
            self.verifier.verify(body, headers)
        except Exception:
            self.bad_signatures += 1
        else:
            event_id = json.loads(body)["eventId"]
            if event_id not in self.received:
                self.received.append(event_id)
            if len(self.received) >= self.expected:
                self.all_arrived.set()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def delivery_rate(system: System, events: int) -> dict[str, Any]:
    receiver = Receiver()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(receiver, port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=system.base_url, timeout=60) as http:
            headers = await token(http, system.base_url)
            conn = await asyncpg.connect(system.database_url)
            have = await conn.fetchval("SELECT count(*) FROM order_events")
            await conn.close()
            await grow_event_log(system.database_url, have + 1)  # an event to start after
            before = await _last_event(system.database_url)
            created = await http.post(
                "/hub", headers=headers, json={"callback": f"http://127.0.0.1:{port}/hook"}
            )
            assert created.status_code == 201, created.text
            subscription = created.json()
            receiver.verifier = Webhook(subscription["secret"])
            await grow_event_log(system.database_url, have + 1 + events)
            expected = await _event_ids_after(system.database_url, before)
            receiver.expected = len(expected)
            started = time.perf_counter()
            replay = await http.post(
                f"/hub/{subscription['id']}/redeliver", headers=headers, params={"since": before}
            )
            assert replay.status_code == 202, replay.text
            await asyncio.wait_for(receiver.all_arrived.wait(), timeout=900)
            elapsed = time.perf_counter() - started
    finally:
        server.should_exit = True
        await serving
    assert receiver.received[: len(expected)] == expected, "events arrived out of order"
    return {
        "events": len(expected),
        "seconds": elapsed,
        "events_per_second": len(expected) / elapsed,
        "bad_signatures": receiver.bad_signatures,
    }


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

"""Helpers for the event, feed and webhook tests (this module holds no tests).

Each test makes its own customer, so the events it counts are only its own; events
are appended through the real ``append_order_event`` activity where webhooks matter.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, TypeVar, cast

import asyncpg
import httpx
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

from activities.events import EventActivities
from config.settings import Settings
from domain.events import AppendOrderEventInput, FeedOrder, OrderEventRecord
from domain.secrets import new_access_token, token_digest
from store import clients, events
from store.clients import ApiClient

T = TypeVar("T")

FEED = "/api/2.3.1/orderevents/"
DEADLINE_SECONDS = 20.0


@dataclass
class Customer:
    number: str
    headers: dict[str, str]


async def new_customer(pool: asyncpg.Pool) -> Customer:
    """A fresh customer with one API client and a valid bearer token."""
    number = f"9-{secrets.token_hex(4).upper()}"
    client_id = f"client-{number}"
    token = new_access_token()
    now = datetime.now(UTC)
    async with pool.acquire() as proxy, proxy.transaction():
        conn = cast(asyncpg.Connection, proxy)  # store.clients takes a plain Connection
        await clients.upsert_customer(conn, number, f"Test customer {number}")
        await clients.upsert_client(conn, client_id, number, "unused")
        await clients.insert_token(
            conn,
            token_digest(token),
            ApiClient(client_id=client_id, customer_number=number, secret_hash="unused"),
            now,
            now + timedelta(hours=2),
        )
    return Customer(number, {"Authorization": f"Bearer {token}"})


def order_event(
    customer: str,
    event_type: str,
    *,
    order_id: str | None = None,
    message: str = "",
    operation: Literal["ACTIVATE", "DEACTIVATE"] = "ACTIVATE",
) -> AppendOrderEventInput:
    order_id = order_id or str(uuid.uuid4())
    return AppendOrderEventInput(
        dedupe_key=f"test-{order_id}:{event_type}",
        customer_number=customer,
        order_id=order_id,
        event_type=event_type,
        order=FeedOrder(
            path=f"/api/2.3.1/orders/{order_id}",
            accessId=f"STTA{secrets.token_hex(3).upper()}",
            service="BB-100-10",
            operation=operation,
            state=event_type,
            message=message,
        ),
        payload={"orderId": "88000000001", "serviceId": None, "errorCode": None},
    )


async def append(pool: asyncpg.Pool, event: AppendOrderEventInput) -> OrderEventRecord:
    """Straight into the log (no webhook wake-up): for feed-only tests."""
    async with pool.acquire() as conn:
        return await events.append_event(conn, event)


class Appender:
    """The real ``append_order_event`` activity, run with the session's Temporal client."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings, client: Client) -> None:
        self._activities = EventActivities(pool, settings)
        self._env = ActivityEnvironment(client=client)

    async def __call__(self, event: AppendOrderEventInput) -> OrderEventRecord:
        return await self._env.run(self._activities.append_order_event, event)


async def eventually(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Poll ``check`` until it returns something truthy; fail after the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_SECONDS
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def feed(
    api: httpx.AsyncClient, customer: Customer, since: str | None = None, **params: Any
) -> list[dict[str, Any]]:
    query = {**params, **({"since": since} if since is not None else {})}
    response = await api.get(FEED, headers=customer.headers, params=query)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: list[dict[str, Any]] = response.json()
    return body


@dataclass
class Received:
    message_id: str
    timestamp: str
    body: dict[str, Any]


@dataclass
class Receiver:
    """A real HTTP receiver on 127.0.0.1 that verifies every request with the
    ``standardwebhooks`` package (independently of the platform's signing code).

    ``status`` is what it answers; ``stop()`` / ``start()`` take it down and bring it
    back on the same port.
    """

    secret: str | None = None
    status: int = 204
    received: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    requests: int = 0
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/iod"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests += 1
                    status = receiver.status
                    if receiver.secret is None:
                        receiver.rejected.append("no secret configured")
                        status = 500
                    else:
                        try:
                            Webhook(receiver.secret).verify(raw, dict(self.headers.items()))
                        except WebhookVerificationError as err:
                            receiver.rejected.append(str(err))
                            status = 401
                        else:
                            if 200 <= status < 300:
                                receiver.received.append(
                                    Received(
                                        self.headers["webhook-id"],
                                        self.headers["webhook-timestamp"],
                                        json.loads(raw),
                                    )
                                )
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def ids(self) -> list[str]:
        with self._lock:
            return [r.message_id for r in self.received]

    def order_events(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.body["eventType"] != "WebhookTestEvent"]


async def subscribe(
    api: httpx.AsyncClient, customer: Customer, receiver: Receiver, query: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"callback": receiver.url}
    if query is not None:
        body["query"] = query
    response = await api.post("/hub", headers=customer.headers, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    receiver.secret = created["secret"]
    return created


async def deliveries(
    api: httpx.AsyncClient, customer: Customer, subscription_id: str, **params: Any
) -> list[dict[str, Any]]:
    response = await api.get(
        f"/hub/{subscription_id}/deliveries", headers=customer.headers, params=params
    )
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body

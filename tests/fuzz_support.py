"""Plumbing for the schemathesis fuzz test (``tests/test_fuzz.py``).

Schemathesis is synchronous: it calls an ASGI app on an event loop of its own, in
another thread. The app under test, though, shares the session's asyncpg pool, Temporal
client and in-process worker, which all belong to the pytest session's event loop. So
while the fuzz test runs, :func:`running_in_background` runs the (otherwise idle) session
loop in a thread of its own, and schemathesis calls a :class:`LoopBridge`, which forwards
each request to the app on that loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import httpx
import schemathesis

PROBLEM_MEDIA_TYPE = "application/problem+json"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class LoopBridge:
    """An ASGI app callable from any event loop. Serves ``fallback`` (directly) until
    :meth:`connect`; from then on every HTTP request goes to the connected app, on the
    connected loop, through an ``httpx.ASGITransport`` like the ``api`` fixture's."""

    def __init__(self, fallback: ASGIApp) -> None:
        self._fallback = fallback
        self._target: tuple[httpx.AsyncClient, asyncio.AbstractEventLoop] | None = None

    def connect(self, app: ASGIApp, loop: asyncio.AbstractEventLoop) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://testserver",
            timeout=60,
        )
        self._target = (client, loop)
        return client

    def disconnect(self) -> None:
        self._target = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            # Nothing to start or stop: the app's resources are the test session's.
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if self._target is None or scope["type"] != "http":
            await self._fallback(scope, receive, send)
            return
        client, loop = self._target
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        url = httpx.URL(scheme=scope.get("scheme", "http"), host="testserver", raw_path=target)
        request = client.build_request(
            scope["method"],
            url,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            content=body,
        )
        forwarded = asyncio.run_coroutine_threadsafe(client.send(request), loop)
        response = await asyncio.wrap_future(forwarded)
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": response.headers.raw,
            }
        )
        await send({"type": "http.response.body", "body": response.content})


@contextmanager
def running_in_background(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """Run the idle event ``loop`` in a thread (the worker, pool and app live on it)."""
    thread = threading.Thread(target=loop.run_forever, name="session-loop", daemon=True)
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        assert not thread.is_alive(), "the session loop did not stop"


def problem_format(
    *, with_cause: Callable[[schemathesis.Case[Any]], bool]
) -> Callable[
    [schemathesis.CheckContext, schemathesis.Response, schemathesis.Case[Any]], bool | None
]:
    """A check: every 4xx/5xx answer is ``application/problem+json`` with ``title``,
    ``detail`` and ``errors[{code, message, field?}]``; where ``with_cause(case)`` (the
    Service Activation 2.3.1 dialect) its 400 and 404 carry ``cause`` too."""

    @schemathesis.check
    def problem_format(
        ctx: schemathesis.CheckContext,
        response: schemathesis.Response,
        case: schemathesis.Case[Any],
    ) -> bool | None:
        if response.status_code < 400:
            return None
        content_type = (response.headers.get("content-type") or [""])[0]
        assert content_type.split(";")[0].strip() == PROBLEM_MEDIA_TYPE, (
            f"{response.status_code} answered as {content_type!r}, not {PROBLEM_MEDIA_TYPE}"
        )
        body = json.loads(response.content)
        assert isinstance(body, dict), f"the problem is not an object: {body!r}"
        assert body.get("status") == response.status_code, f"status member: {body!r}"
        for member in ("title", "detail"):
            assert isinstance(body.get(member), str) and body[member], f"no {member}: {body!r}"
        errors = body.get("errors")
        assert isinstance(errors, list), f"errors is not a list: {body!r}"
        for item in errors:
            assert isinstance(item, dict), f"an error is not an object: {item!r}"
            for member in ("code", "message"):
                assert isinstance(item.get(member), str) and item[member], f"{member}: {item!r}"
            assert item.get("field") is None or isinstance(item["field"], str), f"field: {item!r}"
        if with_cause(case) and response.status_code in (400, 404):
            assert isinstance(body.get("cause"), str) and body["cause"], f"no cause: {body!r}"
        return True

    return problem_format

"""A lean HTTP/1.1 client: keep-alive connections on raw asyncio streams, so the client's
own cost per request (tens of microseconds) stays small next to the server's. httpx costs
about a millisecond of CPU per request; on a two-core machine that the client shares with
the server, that would measure mostly the client.

``get_load`` drives GETs at a fixed concurrency; ``LeanClient`` sends single requests of
any method (the order benchmark's POSTs and its long poll of the event feed).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from benchmarks.harness import percentile


class LoadError(RuntimeError):
    pass


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float] = field(repr=False)

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    def summary(self) -> dict[str, float]:
        return {
            "requests": self.requests,
            "seconds": self.seconds,
            "requests_per_second": self.requests_per_second,
            "p50_ms": percentile(self.latencies, 50) * 1000,
            "p99_ms": percentile(self.latencies, 99) * 1000,
        }


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value.strip())
        elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        return status, await _read_chunked(reader)
    if length is None:
        raise LoadError("an answer without Content-Length")
    return status, await reader.readexactly(length)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailers
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def get_load(
    base_url: str,
    path_for: Callable[[], str],
    *,
    concurrency: int,
    requests: int | None = None,
    seconds: float | None = None,
    headers: dict[str, str] | None = None,
    check: Callable[[int, bytes], bool] = lambda status, _body: status == 200,
) -> LoadResult:
    """``requests`` GETs (or as many as fit in ``seconds``) over ``concurrency`` kept-alive
    connections, each sent as soon as the one before on its connection is answered.

    Every answer is checked (``check``); a failed check raises. A connection the server
    closes is reopened and the request sent again (GET is safe); the time counts.
    """
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    if (requests is None) == (seconds is None):
        raise ValueError("give requests or seconds")
    latencies: list[float] = []
    remaining = requests if requests is not None else 0
    deadline = time.perf_counter() + seconds if seconds is not None else 0.0

    def more() -> bool:
        nonlocal remaining
        if seconds is not None:
            return time.perf_counter() < deadline
        remaining -= 1
        return remaining >= 0

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while more():
                request = (
                    f"GET {path_for()} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n"
                ).encode()
                started = time.perf_counter()
                for attempt in range(2):
                    try:
                        writer.write(request)
                        status, body = await _read_response(reader)
                        break
                    except (ConnectionError, asyncio.IncompleteReadError):
                        if attempt:
                            raise
                        writer.close()
                        reader, writer = await asyncio.open_connection(host, port)
                latencies.append(time.perf_counter() - started)
                if not check(status, body):
                    raise LoadError(f"unexpected answer {status}: {body[:300]!r}")
        finally:
            writer.close()

    begin = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return LoadResult(len(latencies), time.perf_counter() - begin, latencies)


class LeanClient:
    """Single requests over kept-alive connections (one request at a time on each)."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        url = urlsplit(base_url)
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 80
        self._headers = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def request(
        self, method: str, path: str, body: object | None = None
    ) -> tuple[int, bytes]:
        payload = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n{self._headers}"
            + (f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n")
            + "\r\n"
        ).encode()
        reused = bool(self._idle)
        while True:
            if self._idle:
                reader, writer = self._idle.pop()
            else:
                reader, writer = await asyncio.open_connection(self._host, self._port)
            try:
                writer.write(head + payload)
                answer = await _read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
                if not reused:
                    raise
                # A kept-alive connection the server closed while idle (its keep-alive
                # timeout): nothing was answered; send it once more on a new connection.
                reused = False
                self._idle.clear()
                continue
            except BaseException:
                writer.close()  # not reused: the request may be half sent or answered
                raise
            self._idle.append((reader, writer))
            return answer

    async def json(self, method: str, path: str, body: object | None = None) -> object:
        status, answer = await self.request(method, path, body)
        if status >= 300:
            raise LoadError(f"{method} {path}: {status} {answer[:300]!r}")
        return json.loads(answer)

    def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()

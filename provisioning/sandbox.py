"""The sandbox backend: realistic latency and numbers, and failures on demand.

Triggers, written anywhere in the order's ``Customer Service Name`` (case-insensitive):

===================  ==========================================================
``FAIL-ORDER``       the order system rejects the order: FAILED, ORDER_REJECTED
``FAIL-PROVISION``   the network step fails for good: FAILED, PROVISIONING_FAILED
                     (resources are released)
``FLAKY-<n>``        the network step fails transiently n times, then succeeds;
                     with n at or above the step's attempts the order is parked
                     for support, and ``iod orders retry`` completes it
``HANG``             the network step never answers (it times out on every
                     attempt) until support retries the order
``SLOW``             every step takes 20 times the configured latency
===================  ==========================================================

Numbers come from PostgreSQL sequences and are keyed by the order request, as a real
order system keyed by our request id would be: a retried step gets the same number.
"""

from __future__ import annotations

import asyncio
import re
from uuid import UUID

import asyncpg

from provisioning.backend import BackendRejected, BackendRequest, BackendUnavailable

_FLAKY = re.compile(r"FLAKY-(\d+)", re.IGNORECASE)
SLOW_FACTOR = 20


class SandboxBackend:
    def __init__(self, pool: asyncpg.Pool, latency_seconds: float, hang_seconds: float) -> None:
        self._pool = pool
        self._latency = latency_seconds
        self._hang = hang_seconds

    async def create_order(self, request: BackendRequest) -> str:
        await self._delay(request)
        if _has(request, "FAIL-ORDER"):
            raise BackendRejected(
                "ORDER_REJECTED", "The order system rejected the order (sandbox trigger FAIL-ORDER)"
            )
        async with self._pool.acquire() as conn:
            number: str = await conn.fetchval(
                "WITH new AS (INSERT INTO sandbox_orders (order_request_id) VALUES ($1)"
                " ON CONFLICT DO NOTHING RETURNING order_number)"
                " SELECT order_number FROM new UNION ALL"
                " SELECT order_number FROM sandbox_orders WHERE order_request_id = $1",
                UUID(request.order_request_id),
            )
        return number

    async def provision(self, request: BackendRequest, vlan_id: int, ipv4_block: str) -> str:
        await self._network_step(request, "provision")
        async with self._pool.acquire() as conn:
            service_id: str = await conn.fetchval(
                "WITH new AS (INSERT INTO sandbox_services (order_request_id) VALUES ($1)"
                " ON CONFLICT DO NOTHING RETURNING service_id)"
                " SELECT service_id FROM new UNION ALL"
                " SELECT service_id FROM sandbox_services WHERE order_request_id = $1",
                UUID(request.order_request_id),
            )
        return service_id

    async def change_bandwidth(self, request: BackendRequest, service_id: str) -> None:
        await self._network_step(request, "change_bandwidth")

    async def disconnect(self, request: BackendRequest, service_id: str) -> None:
        await self._network_step(request, "disconnect")

    async def _network_step(self, request: BackendRequest, step: str) -> None:
        attempt = await self._count_attempt(request, step)
        await self._delay(request)
        if _has(request, "FAIL-PROVISION"):
            raise BackendRejected(
                "PROVISIONING_FAILED",
                "The network refused the configuration (sandbox trigger FAIL-PROVISION)",
            )
        if _has(request, "HANG") and request.support_retries == 0:
            await asyncio.sleep(self._hang)
        flaky = _FLAKY.search(request.customer_service_name)
        if flaky and attempt <= int(flaky.group(1)):
            raise BackendUnavailable(
                f"The network controller is busy (sandbox trigger FLAKY, attempt {attempt})"
            )

    async def _count_attempt(self, request: BackendRequest, step: str) -> int:
        async with self._pool.acquire() as conn:
            attempts: int = await conn.fetchval(
                "INSERT INTO sandbox_attempts (order_request_id, step, attempts) VALUES ($1, $2, 1)"
                " ON CONFLICT (order_request_id, step)"
                " DO UPDATE SET attempts = sandbox_attempts.attempts + 1 RETURNING attempts",
                UUID(request.order_request_id),
                step,
            )
        return attempts

    async def _delay(self, request: BackendRequest) -> None:
        factor = SLOW_FACTOR if _has(request, "SLOW") else 1
        if self._latency > 0:
            await asyncio.sleep(self._latency * factor)


def _has(request: BackendRequest, trigger: str) -> bool:
    return trigger in request.customer_service_name.upper()

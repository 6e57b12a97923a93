"""Every endpoint of the OpenAPI document, called without a token, with an expired token,
and for another customer: never a 2xx, never a 5xx, always the problem format."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from domain.secrets import new_access_token, token_digest
from tests.problems import assert_problem

PUBLIC = {("POST", "/oauth/v2/token"), ("GET", "/healthz"), ("GET", "/readyz")}


async def _operations(api: httpx.AsyncClient) -> list[tuple[str, str]]:
    spec: dict[str, Any] = (await api.get("/openapi.json")).json()
    found = []
    for path, methods in spec["paths"].items():
        for method in methods:
            if (method.upper(), path) not in PUBLIC:
                found.append((method.upper(), path))
    return found


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "00000000-0000-1000-8000-000000000000", path)


async def test_every_protected_endpoint_needs_a_valid_token(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    expired = new_access_token()
    past = datetime.now(UTC) - timedelta(minutes=1)
    await pool.execute(
        "INSERT INTO access_tokens (token_hash, client_id, customer_number, issued_at, expires_at)"
        " VALUES ($1, 'demo-client', '1-ABCDE', $2, $3)",
        token_digest(expired),
        past - timedelta(hours=1),
        past,
    )
    operations = await _operations(api)
    assert len(operations) >= 5
    for method, path in operations:
        url = _concrete(path)
        for headers in (
            {},
            {"Authorization": f"Bearer {expired}"},
            {"Authorization": "Bearer not-a-token"},
        ):
            response = await api.request(method, url, headers=headers, json={})
            assert_problem(response, 401, "Authorization")


async def test_every_protected_endpoint_refuses_another_customer_number(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    for method, path in await _operations(api):
        response = await api.request(
            method, _concrete(path), headers={**acme, "x-customer-number": "1-XYZ99"}, json={}
        )
        assert_problem(response, 403, "x-customer-number")


@pytest.mark.parametrize(
    "path",
    [
        "/Customer/v3/Ordering/orderRequest/{id}",
        "/Customer/v4/Ordering/operations/{id}",
    ],
)
async def test_unknown_ids_are_404_not_500(
    api: httpx.AsyncClient, acme: dict[str, str], path: str
) -> None:
    for value in ("00000000-0000-1000-8000-000000000000", "x", "%00", "1" * 300):
        response = await api.get(path.replace("{id}", value), headers=acme)
        assert response.status_code == 404, (value, response.text)

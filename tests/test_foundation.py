"""Authentication, the problem format, health checks and migrations."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from domain.secrets import new_access_token, token_digest
from store.migrate import available_migrations, migrate
from tests.problems import assert_problem

PROTECTED = "/Network/v1/provider"


async def test_token_is_issued_for_valid_client_credentials(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/oauth/v2/token",
        auth=("demo-client", "demo-secret"),
        data={"grant_type": "client_credentials"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == "1799"
    assert body["client_id"] == "demo-client"
    assert body["status"] == "approved"
    assert len(body["access_token"]) >= 32
    issued_ms = int(body["issued_at"])
    assert abs(issued_ms / 1000 - datetime.now(UTC).timestamp()) < 60
    listed = await api.get(PROTECTED, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert listed.status_code == 200


async def test_wrong_secret_unknown_client_and_missing_basic_auth_are_401(
    api: httpx.AsyncClient,
) -> None:
    form = {"grant_type": "client_credentials"}
    wrong = await api.post("/oauth/v2/token", auth=("demo-client", "nope"), data=form)
    assert_problem(wrong, 401, "Authorization")
    unknown = await api.post("/oauth/v2/token", auth=("ghost", "demo-secret"), data=form)
    assert_problem(unknown, 401, "Authorization")
    missing = await api.post("/oauth/v2/token", data=form)
    assert_problem(missing, 401, "Authorization")
    garbage = await api.post(
        "/oauth/v2/token", headers={"Authorization": "Basic !!!notbase64"}, data=form
    )
    assert_problem(garbage, 401, "Authorization")


async def test_unsupported_or_missing_grant_type_is_400(api: httpx.AsyncClient) -> None:
    wrong = await api.post(
        "/oauth/v2/token", auth=("demo-client", "demo-secret"), data={"grant_type": "password"}
    )
    assert_problem(wrong, 400, "grant_type")
    missing = await api.post("/oauth/v2/token", auth=("demo-client", "demo-secret"))
    assert_problem(missing, 400, "grant_type")


async def test_calls_without_a_valid_bearer_token_are_401(api: httpx.AsyncClient) -> None:
    assert_problem(await api.get(PROTECTED), 401, "Authorization")
    bogus = {"Authorization": f"Bearer {new_access_token()}"}
    assert_problem(await api.get(PROTECTED, headers=bogus), 401, "Authorization")
    basic = {"Authorization": "Basic " + base64.b64encode(b"demo-client:demo-secret").decode()}
    response = await api.get(PROTECTED, headers=basic)
    assert_problem(response, 401, "Authorization")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_expired_token_is_401(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    token = new_access_token()
    past = datetime.now(UTC) - timedelta(seconds=5)
    await pool.execute(
        "INSERT INTO access_tokens (token_hash, client_id, customer_number, issued_at, expires_at)"
        " VALUES ($1, 'demo-client', '1-ABCDE', $2, $3)",
        token_digest(token),
        past - timedelta(seconds=1799),
        past,
    )
    response = await api.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})
    body = assert_problem(response, 401, "Authorization")
    assert "expired" in body["detail"]


async def test_a_remembered_token_is_refused_once_it_expires(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    token = new_access_token()
    expires_at = datetime.now(UTC) + timedelta(milliseconds=500)
    await pool.execute(
        "INSERT INTO access_tokens (token_hash, client_id, customer_number, issued_at, expires_at)"
        " VALUES ($1, 'demo-client', '1-ABCDE', now(), $2)",
        token_digest(token),
        expires_at,
    )
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.get(PROTECTED, headers=headers)).status_code == 200  # now remembered
    # Wait out the token's lifetime (half a second), then it is refused though remembered.
    await asyncio.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()) + 0.01)
    body = assert_problem(await api.get(PROTECTED, headers=headers), 401, "Authorization")
    assert "expired" in body["detail"]


async def test_customer_number_header_of_another_customer_is_403(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    own = await api.get(PROTECTED, headers={**acme, "x-customer-number": "1-ABCDE"})
    assert own.status_code == 200
    other = await api.get(PROTECTED, headers={**acme, "x-customer-number": "1-XYZ99"})
    assert_problem(other, 403, "x-customer-number")


async def test_secrets_and_tokens_are_stored_only_as_hashes(
    api: httpx.AsyncClient, pool: asyncpg.Pool, token_for: object
) -> None:
    response = await api.post(
        "/oauth/v2/token",
        auth=("demo-client", "demo-secret"),
        data={"grant_type": "client_credentials"},
    )
    token = response.json()["access_token"]
    secret_hash = await pool.fetchval(
        "SELECT secret_hash FROM api_clients WHERE client_id = 'demo-client'"
    )
    assert "demo-secret" not in secret_hash and secret_hash.startswith("scrypt$")
    stored = await pool.fetch("SELECT token_hash FROM access_tokens")
    assert all(token.encode() not in bytes(r["token_hash"]) for r in stored)
    assert any(bytes(r["token_hash"]) == token_digest(token) for r in stored)


async def test_unknown_route_and_wrong_method_use_the_problem_format(
    api: httpx.AsyncClient,
) -> None:
    assert_problem(await api.get("/no/such/thing"), 404)
    assert_problem(await api.delete("/oauth/v2/token"), 405)


async def test_health_and_readiness(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"postgres": "ok", "temporal": "ok"}


async def test_migrations_were_applied_from_zero_and_are_idempotent(pool: asyncpg.Pool) -> None:
    versions = [
        r["version"]
        for r in await pool.fetch("SELECT version FROM schema_migrations ORDER BY version")
    ]
    assert versions == [m.version for m in available_migrations()]
    async with pool.acquire() as conn:
        assert await migrate(conn) == []

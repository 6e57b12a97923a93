"""Webhook subscriptions over HTTP: create, list, show, delete, callback and query rules,
isolation between customers, and the secret shown once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from api.main import create_app
from config.settings import Settings
from tests.problems import assert_problem
from tests.test_event_support import new_customer

CALLBACK = "http://127.0.0.1:9/hooks/iod"  # never called: no events in these tests


@pytest.fixture
async def production_api(
    settings: Settings, pool: asyncpg.Pool, temporal_client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    """The API with production callback rules: https only, no private targets."""
    strict = settings.model_copy(
        update={"webhook_allow_private_targets": False, "webhook_require_https": True}
    )
    app = create_app(strict, pool=pool, temporal=temporal_client)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://iod.test") as client:
        yield client


async def test_subscribe_list_show_delete(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    customer = await new_customer(pool)
    response = await api.post(
        "/hub",
        headers=customer.headers,
        json={"callback": CALLBACK, "query": "eventType=DONE_SUCCESS,DONE_FAILED"},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    sub_id = created["id"]
    assert response.headers["location"] == f"/hub/{sub_id}"
    assert created["secret"].startswith("whsec_")
    assert created["callback"] == CALLBACK
    assert created["query"] == "eventType=DONE_SUCCESS,DONE_FAILED"
    assert created["status"] == "active"

    shown = await api.get(f"/hub/{sub_id}", headers=customer.headers)
    assert shown.status_code == 200
    listed = await api.get("/hub", headers=customer.headers)
    assert [s["id"] for s in listed.json()] == [sub_id]
    # The secret is in the POST's answer only.
    for body in (shown.text, listed.text):
        assert created["secret"] not in body and "secret" not in body
    assert shown.json() == {k: v for k, v in created.items() if k != "secret"}

    deleted = await api.delete(f"/hub/{sub_id}", headers=customer.headers)
    assert deleted.status_code == 204
    assert_problem(await api.get(f"/hub/{sub_id}", headers=customer.headers), 404, "id")
    assert_problem(await api.delete(f"/hub/{sub_id}", headers=customer.headers), 404, "id")
    assert (await api.get("/hub", headers=customer.headers)).json() == []
    # Deleting forgets the secret.
    assert (
        await pool.fetchval(
            "SELECT secret FROM webhook_subscriptions WHERE id = $1", uuid.UUID(sub_id)
        )
        is None
    )


async def test_customers_only_see_their_own_subscriptions(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    owner, stranger = await new_customer(pool), await new_customer(pool)
    created = (await api.post("/hub", headers=owner.headers, json={"callback": CALLBACK})).json()
    sub = f"/hub/{created['id']}"
    assert (await api.get("/hub", headers=stranger.headers)).json() == []
    for method, path in [
        ("GET", sub),
        ("DELETE", sub),
        ("GET", f"{sub}/deliveries"),
        ("POST", f"{sub}/redeliver"),
        ("POST", f"{sub}/test"),
    ]:
        response = await api.request(method, path, headers=stranger.headers)
        assert_problem(response, 404, "id")
    assert (await api.get(sub, headers=owner.headers)).status_code == 200
    await api.delete(sub, headers=owner.headers)


async def test_hub_requires_a_token(api: httpx.AsyncClient) -> None:
    assert_problem(await api.get("/hub"), 401, "Authorization")
    assert_problem(await api.post("/hub", json={"callback": "https://x.test"}), 401)


async def test_unknown_or_malformed_subscription_id_is_404(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    customer = await new_customer(pool)
    for sub_id in (str(uuid.uuid4()), "nope"):
        assert_problem(await api.get(f"/hub/{sub_id}", headers=customer.headers), 404, "id")


REJECTED = [
    "http://93.184.215.14/hook",  # not https
    "https://127.0.0.1/hook",
    "https://localhost/hook",
    "https://[::1]/hook",
    "https://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::ffff:10.0.0.1]/hook",
    "https://user:pass@93.184.215.14/hook",
    "ftp://93.184.215.14/hook",
    "not a url",
    "https:///no-host",
    "",
]


@pytest.mark.parametrize("callback", REJECTED)
async def test_bad_callbacks_are_400_naming_callback(
    production_api: httpx.AsyncClient, pool: asyncpg.Pool, callback: str
) -> None:
    customer = await new_customer(pool)
    response = await production_api.post(
        "/hub", headers=customer.headers, json={"callback": callback}
    )
    assert_problem(response, 400, "callback")


async def test_public_https_callback_is_accepted_in_production(
    production_api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    customer = await new_customer(pool)
    response = await production_api.post(
        "/hub", headers=customer.headers, json={"callback": "https://93.184.215.14/iod"}
    )
    assert response.status_code == 201, response.text
    await production_api.delete(f"/hub/{response.json()['id']}", headers=customer.headers)


async def test_missing_callback_and_bad_query_are_400(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    customer = await new_customer(pool)
    assert_problem(await api.post("/hub", headers=customer.headers, json={}), 400, "callback")
    for query in ("eventType=SOMETHING", "state=DONE", "eventType="):
        response = await api.post(
            "/hub", headers=customer.headers, json={"callback": CALLBACK, "query": query}
        )
        assert_problem(response, 400, "query")


async def test_redeliver_with_unknown_since_is_400(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    customer = await new_customer(pool)
    created = (await api.post("/hub", headers=customer.headers, json={"callback": CALLBACK})).json()
    response = await api.post(
        f"/hub/{created['id']}/redeliver",
        headers=customer.headers,
        params={"since": str(uuid.uuid4())},
    )
    assert_problem(response, 400, "since")
    await api.delete(f"/hub/{created['id']}", headers=customer.headers)

"""Service Activation API 2.3.1 orders: validation with ``cause``, activation, re-orders."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest

from tests.problems import assert_problem

ORDERS = "/api/2.3.1/orders/"


def sa_body(access_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "accessId": access_id,
        "service": "BB-100-10",
        "operation": "ACTIVATE",
        "forcedTakeover": False,
        "equipment": [{"vendorId": "ACME", "macAddress": "00:11:22:33:44:55"}],
        "spReference": "SP-REF-1",
    }
    body.update(changes)
    return body


def new_access() -> str:
    return f"STTA{secrets.token_hex(4).upper()}"


async def wait_done(api: httpx.AsyncClient, headers: dict[str, str], path: str) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        response = await api.get(path, headers=headers)
        assert response.status_code == 200, response.text
        order: dict[str, Any] = response.json()
        if order["state"] != "RECEIVED":
            return order
        assert asyncio.get_running_loop().time() < deadline, order
        await asyncio.sleep(0.05)


INVALID = [
    ("accessId", {"accessId": "STTA-0001"}),
    ("accessId", {"accessId": "A" * 33}),
    ("service", {"service": "BB-9-9"}),
    ("operation", {"operation": "SUSPEND"}),
    ("forcedTakeover", {"forcedTakeover": None}),
    ("equipment[0].macAddress", {"equipment": [{"vendorId": "X", "macAddress": "nope"}]}),
    ("spReference", {"spReference": "x" * 256}),
]


@pytest.mark.parametrize(("field", "change"), INVALID, ids=[f for f, _ in INVALID])
async def test_invalid_sa_order_is_400_with_cause(
    api: httpx.AsyncClient, acme: dict[str, str], field: str, change: dict[str, Any]
) -> None:
    response = await api.post(ORDERS, headers=acme, json=sa_body(new_access(), **change))
    body = assert_problem(response, 400, field)
    assert field in body["cause"]


async def test_missing_field_and_bad_json_are_400_with_cause(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    body = sa_body(new_access())
    del body["forcedTakeover"]
    missing = assert_problem(await api.post(ORDERS, headers=acme, json=body), 400, "forcedTakeover")
    assert "forcedTakeover" in missing["cause"]
    broken = await api.post(
        ORDERS, headers={**acme, "Content-Type": "application/json"}, content=b"{"
    )
    assert "JSON" in assert_problem(broken, 400)["cause"]


async def test_activate_then_reactivate_then_deactivate(
    api: httpx.AsyncClient, acme: dict[str, str], globex: dict[str, str]
) -> None:
    access = new_access()
    created = await api.post(ORDERS, headers=acme, json=sa_body(access))
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["state"] == "RECEIVED" and order["message"] == ""
    assert order["accessId"] == access and order["operation"] == "ACTIVATE"
    assert created.headers["Location"] == order["path"]
    assert order["path"].startswith("/api/2.3.1/orders/")

    done = await wait_done(api, acme, order["path"])
    assert done["state"] == "DONE_SUCCESS"

    again = await api.post(ORDERS, headers=acme, json=sa_body(access))
    assert again.status_code == 200
    assert again.json()["path"] == order["path"]

    conflict = await api.post(ORDERS, headers=acme, json=sa_body(access, service="BB-250-100"))
    assert "active service" in assert_problem(conflict, 400, "service")["cause"]

    assert_problem(await api.get(order["path"], headers=globex), 404)

    off = await api.post(ORDERS, headers=acme, json=sa_body(access, operation="DEACTIVATE"))
    assert off.status_code == 201, off.text
    assert (await wait_done(api, acme, off.json()["path"]))["state"] == "DONE_SUCCESS"
    already = await api.post(ORDERS, headers=acme, json=sa_body(access, operation="DEACTIVATE"))
    assert already.status_code == 200
    assert already.json()["path"] == off.json()["path"]


async def test_deactivate_unknown_access_is_400(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    response = await api.post(
        ORDERS, headers=acme, json=sa_body(new_access(), operation="DEACTIVATE")
    )
    assert "accessId" in assert_problem(response, 400, "accessId")["cause"]


async def test_failed_activation_reports_done_failed_with_message(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    created = await api.post(
        ORDERS, headers=acme, json=sa_body(new_access(), spReference="FAIL-PROVISION")
    )
    assert created.status_code == 201
    done = await wait_done(api, acme, created.json()["path"])
    assert done["state"] == "DONE_FAILED"
    assert "FAIL-PROVISION" in done["message"]

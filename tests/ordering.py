"""Helpers for order tests: quotes, order bodies, waiting for a state (with a deadline)."""

from __future__ import annotations

import asyncio
import copy
import secrets
from typing import Any

import httpx

SEED_SITE = "PL0001247634"
SEED_ACCOUNT = "5-RHQBGCGK"

SEED_ORDER: dict[str, Any] = {
    "externalId": "EXT-000027740",
    "billingAccount": {"id": SEED_ACCOUNT, "name": "Company or account name"},
    "channel": [{"id": "99", "name": "NaaS ExternalAPI"}],
    "note": [{"text": "This is your reference note for tracking purposes."}],
    "productOrderItem": [
        {
            "id": "Customer internal order line ID.",
            "quantity": 1,
            "action": "add",
            "product": {
                "productCharacteristic": [
                    {
                        "name": "Customer Service Name",
                        "valueType": "String",
                        "value": "My First NaaS",
                    },
                    {"name": "VLAN Assignment", "valueType": "String", "value": "Auto Assign"},
                    {"name": "IPV4 Block Size", "valueType": "String", "value": "/29"},
                    {"name": "Routing Options", "valueType": "String", "value": "Static"},
                ],
                "productSpecification": {"id": "5001", "name": "NaaS Internet"},
            },
            "productOffering": {"id": "718", "name": "NaaS Internet"},
        }
    ],
    "quote": [{"id": "NaaS-7888", "name": "quoteId"}],
    "relatedContactInformation": [
        {
            "number": "+16157691234",
            "emailAddress": "first.lastname@domain.com",
            "role": "Order Contact",
            "organization": "Org Name",
            "name": "FirstName LastName",
            "numberExtension": "",
        }
    ],
}


def unique_external_id() -> str:
    return f"EXT-{secrets.token_hex(6)}"


async def new_quote(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    speed: str = "100 Mbps",
    site: str = SEED_SITE,
    customer: str = "1-ABCDE",
    partner: str = "43558",
) -> str:
    response = await api.post(
        "/Product/v1/priceRequest",
        headers=headers,
        json={
            "sourceSystem": "NaaS ExternalAPI",
            "customerPriceRequestDescription": "NaaS Price Request",
            "customerPurchaseOrderNumber": "PO-12345",
            "customerNumber": customer,
            "currencyCode": "USD",
            "masterSiteId": site,
            "productCode": "718",
            "partnerId": partner,
            "productName": "Internet On-Demand",
            "speed": speed,
        },
    )
    assert response.status_code in (200, 201), response.text
    quote_id: str = response.json()["id"]
    return quote_id


def order_body(
    quote_id: str | None,
    *,
    name: str = "My First NaaS",
    block: str = "/29",
    action: str = "add",
    service_id: str | None = None,
    external_id: str | None = None,
    account: str = SEED_ACCOUNT,
) -> dict[str, Any]:
    body = copy.deepcopy(SEED_ORDER)
    body["externalId"] = external_id or unique_external_id()
    body["billingAccount"]["id"] = account
    item = body["productOrderItem"][0]
    item["action"] = action
    chars = item["product"]["productCharacteristic"]
    chars[0]["value"] = name
    chars[2]["value"] = block
    if service_id is not None:
        item["product"]["id"] = service_id
    if quote_id is None:
        body["quote"] = []
    else:
        body["quote"][0]["id"] = quote_id
    return body


TERMINAL = {"SUCCEEDED", "FAILED"}


async def wait_for_status(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    order_request_id: str,
    *,
    until: set[str] | None = None,
    step_contains: str | None = None,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Poll the v3 status until its state is in ``until`` (or its step matches)."""
    until = until or TERMINAL
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await api.get(
            f"/Customer/v3/Ordering/orderRequest/{order_request_id}", headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if step_contains is None and body["state"] in until:
            return body
        if step_contains is not None:
            op = await api.get(
                f"/Customer/v4/Ordering/operations/{order_request_id}", headers=headers
            )
            if step_contains in op.json()["metadata"]["message"]:
                return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"order {order_request_id} stuck: {body}")
        await asyncio.sleep(0.05)


async def place_order(
    api: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    response = await api.post(
        "/Customer/v3/Ordering/orderRequest", headers=headers, json=body, **extra
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created

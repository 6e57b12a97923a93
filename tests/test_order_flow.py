"""The seed's flow end to end over HTTP, on the real Temporal dev server and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import uuid

import asyncpg
import httpx
from temporalio.client import Client

from domain.orders import order_workflow_id
from tests.ordering import (
    SEED_ORDER,
    SEED_SITE,
    new_quote,
    order_body,
    place_order,
    wait_for_status,
)
from tests.problems import assert_problem
from workflows import search_attributes as sa

ORDER = "/Customer/v3/Ordering/orderRequest"


async def test_price_order_running_succeeded_inventory_active(
    api: httpx.AsyncClient,
    acme: dict[str, str],
    pool: asyncpg.Pool,
    temporal_client: Client,
) -> None:
    quote_id = await new_quote(api, acme)
    body = order_body(quote_id, name="My First NaaS SLOW")
    created = await place_order(api, acme, body)

    # The seed's response: the request echoed, plus a time-based id.
    order_id = created["id"]
    assert uuid.UUID(order_id).version == 1
    assert created["externalId"] == body["externalId"]
    assert created["billingAccount"] == body["billingAccount"]
    assert created["quote"] == body["quote"]
    assert created["relatedContactInformation"] == body["relatedContactInformation"]
    item = created["productOrderItem"][0]
    assert item["@type"] == "ProductOrderItem"
    assert item["appointment"] is None and item["state"] is None
    assert item["product"] == body["productOrderItem"][0]["product"]

    running = await api.get(f"{ORDER}/{order_id}", headers=acme)
    assert running.status_code == 200
    status = running.json()
    assert status["state"] == "RUNNING"
    assert running.headers["Retry-After"] == "7"
    assert status["serviceId"] is None
    assert status["error"] is None
    assert status["externalId"] == body["externalId"]

    done = await wait_for_status(api, acme, order_id)
    assert done["state"] == "SUCCEEDED", done
    assert re.fullmatch(r"88\d{9}", done["orderId"])
    assert re.fullmatch(r"77\d{9}", done["serviceId"])
    final = await api.get(f"{ORDER}/{order_id}", headers=acme)
    assert "Retry-After" not in final.headers

    inventory = await api.get(
        "/ProductInventory/v1/inventory", params={"serviceId": done["serviceId"]}, headers=acme
    )
    assert inventory.status_code == 200
    services = inventory.json()["serviceInventory"]
    assert len(services) == 1
    service = services[0]
    assert service["status"] == "Active"
    assert service["location"]["masterSiteId"] == SEED_SITE
    assert service["billingAccount"] == {"id": "5-RHQBGCGK", "name": "Company or account name"}
    chars = {c["name"]: c["value"] for c in service["product"]["productCharacteristic"]}
    assert chars["Bandwidth"] == "100 Mbps"
    assert chars["IPV4 Block"].endswith("/29")

    # Operators can find the order in the Temporal UI by its business keys.
    # (The status record is written before the workflow's last task upserts the
    # state attribute, so wait for the workflow itself to close first.)
    handle = temporal_client.get_workflow_handle(order_workflow_id(order_id))
    await handle.result()
    description = await handle.describe()
    attrs = description.typed_search_attributes
    assert attrs.get(sa.CUSTOMER_NUMBER) == "1-ABCDE"
    assert attrs.get(sa.EXTERNAL_ID) == body["externalId"]
    assert attrs.get(sa.QUOTE_ID) == quote_id
    assert attrs.get(sa.SERVICE_ID) == done["serviceId"]
    assert attrs.get(sa.ORDER_STATE) == "SUCCEEDED"
    summary = await description.static_summary()
    assert summary and "1-ABCDE" in summary


async def test_long_running_operation_form(api: httpx.AsyncClient, acme: dict[str, str]) -> None:
    quote_id = await new_quote(api, acme)
    response = await api.post(
        "/Customer/v4/Ordering/orderRequest",
        headers=acme,
        json=order_body(quote_id, name="LRO SLOW"),
    )
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    assert location.startswith("/Customer/v4/Ordering/operations/")
    assert response.headers["Retry-After"] == "7"
    operation = response.json()
    assert operation["status"] == "RUNNING"
    assert location.endswith(operation["operationId"])
    assert operation["resource"] is None and operation["error"] is None
    assert operation["startedAt"] and operation["completedAt"] is None

    deadline = asyncio.get_running_loop().time() + 60
    while operation["status"] not in ("SUCCEEDED", "FAILED", "CANCELLED"):
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)
        polled = await api.get(location, headers=acme)
        assert polled.status_code == 200
        operation = polled.json()
        if operation["status"] == "RUNNING":
            assert polled.headers["Retry-After"] == "7"
            assert operation["metadata"]["step"]
    assert operation["status"] == "SUCCEEDED"
    assert operation["completedAt"] is not None
    assert operation["percent"] == 100
    resource = operation["resource"]
    assert resource["id"] == operation["operationId"]
    assert resource["href"] == f"{ORDER}/{operation['operationId']}"
    assert re.fullmatch(r"77\d{9}", resource["serviceId"])
    # Terminal states never change, and a finished operation can't be cancelled.
    cancel = await api.delete(location, headers=acme)
    assert_problem(cancel, 409, "operationId")
    assert (await api.get(location, headers=acme)).json()["status"] == "SUCCEEDED"


async def test_another_customers_order_is_not_found(
    api: httpx.AsyncClient, acme: dict[str, str], globex: dict[str, str]
) -> None:
    quote_id = await new_quote(api, acme)
    created = await place_order(api, acme, order_body(quote_id))
    done = await wait_for_status(api, acme, created["id"])
    assert_problem(await api.get(f"{ORDER}/{created['id']}", headers=globex), 404, "id")
    assert_problem(
        await api.get(f"/Customer/v4/Ordering/operations/{created['id']}", headers=globex),
        404,
        "operationId",
    )
    assert_problem(
        await api.delete(f"/Customer/v4/Ordering/operations/{created['id']}", headers=globex),
        404,
        "operationId",
    )
    theirs = await api.get(
        "/ProductInventory/v1/inventory",
        params={"serviceId": done["serviceId"]},
        headers=globex,
    )
    assert theirs.json()["serviceInventory"] == []
    assert_problem(await api.get(f"{ORDER}/not-a-uuid", headers=acme), 404, "id")


async def test_billing_account_must_be_the_callers_and_us(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    quote_id = await new_quote(api, acme)
    foreign = await pool.fetchval(
        "SELECT id FROM billing_accounts WHERE customer_number = '1-ABCDE'"
        " AND hq_country <> 'US' LIMIT 1"
    )
    others = await pool.fetchval(
        "SELECT id FROM billing_accounts WHERE customer_number = '1-XYZ99' LIMIT 1"
    )
    for account in (foreign, others, "5-NOSUCH"):
        response = await api.post(ORDER, headers=acme, json=order_body(quote_id, account=account))
        assert_problem(response, 422, "billingAccount.id")
    # None of those refusals used the quote.
    await place_order(api, acme, order_body(quote_id))


async def test_quote_problems_are_refused_synchronously(
    api: httpx.AsyncClient, acme: dict[str, str], globex: dict[str, str], pool: asyncpg.Pool
) -> None:
    unknown = await api.post(ORDER, headers=acme, json=order_body("NaaS-999999999"))
    body = assert_problem(unknown, 422, "quote[0].id")
    assert body["errors"][0]["code"] == "QUOTE_NOT_FOUND"

    theirs = await new_quote(api, globex, customer="1-XYZ99")
    other = await api.post(ORDER, headers=acme, json=order_body(theirs))
    assert assert_problem(other, 422, "quote[0].id")["errors"][0]["code"] == "QUOTE_NOT_FOUND"

    expired = await new_quote(api, acme)
    await pool.execute(
        "UPDATE quotes SET expires_at = now() - interval '1 second' WHERE id = $1", expired
    )
    late = await api.post(ORDER, headers=acme, json=order_body(expired))
    assert assert_problem(late, 422, "quote[0].id")["errors"][0]["code"] == "QUOTE_EXPIRED"

    used = await new_quote(api, acme)
    await place_order(api, acme, order_body(used))
    again = await api.post(ORDER, headers=acme, json=order_body(used))
    assert assert_problem(again, 409, "quote[0].id")["errors"][0]["code"] == "QUOTE_ALREADY_USED"

    # A refused order leaves nothing behind: the same externalId can be submitted again.
    fresh = await new_quote(api, acme)
    retry_body = order_body("NaaS-999999999")
    assert_problem(await api.post(ORDER, headers=acme, json=retry_body), 422, "quote[0].id")
    retry_body["quote"][0]["id"] = fresh
    await place_order(api, acme, retry_body)


async def test_same_idempotency_key_or_external_id_returns_the_original_order(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    quote_id = await new_quote(api, acme)
    body = order_body(quote_id)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await api.post(ORDER, headers={**acme, **key}, json=body)
    second = await api.post(ORDER, headers={**acme, **key}, json=body)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"

    # Same externalId without a key: the original order again, nothing new started.
    third = await api.post(ORDER, headers=acme, json=body)
    assert third.status_code == 201 and third.json()["id"] == first.json()["id"]

    changed = dict(body, note=[{"text": "different"}])
    mismatch = await api.post(ORDER, headers={**acme, **key}, json=changed)
    assert_problem(mismatch, 422, "Idempotency-Key")
    count = await pool.fetchval(
        "SELECT count(*) FROM order_requests WHERE external_id = $1", body["externalId"]
    )
    assert count == 1


async def test_fifty_concurrent_identical_posts_make_one_order(
    api: httpx.AsyncClient,
    acme: dict[str, str],
    pool: asyncpg.Pool,
    temporal_client: Client,
) -> None:
    quote_id = await new_quote(api, acme)
    body = order_body(quote_id)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    responses = await asyncio.gather(
        *(api.post(ORDER, headers={**acme, **key}, json=body) for _ in range(50))
    )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses][:3]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1
    (order_id,) = ids
    rows = await pool.fetch(
        "SELECT id FROM order_requests WHERE external_id = $1", body["externalId"]
    )
    assert [str(r["id"]) for r in rows] == [order_id]
    consumed = await pool.fetchval("SELECT consumed_by FROM quotes WHERE id = $1", quote_id)
    assert consumed == order_id
    done = await wait_for_status(api, acme, order_id)
    assert done["state"] == "SUCCEEDED"
    workflows = [
        w async for w in temporal_client.list_workflows(f"ExternalId = '{body['externalId']}'")
    ]
    assert len(workflows) <= 1  # visibility may lag; never more than one


async def test_seed_example_is_echoed_as_in_the_seed_response(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    quote_id = await new_quote(api, acme)
    body = order_body(quote_id, external_id="EXT-SEED-ECHO")
    created = await place_order(api, acme, body)
    expected_keys = ["id", *SEED_ORDER.keys()]
    assert list(created.keys()) == expected_keys
    item_keys = list(created["productOrderItem"][0].keys())
    assert item_keys[:3] == ["id", "quantity", "action"]
    assert item_keys[-1] == "@type"

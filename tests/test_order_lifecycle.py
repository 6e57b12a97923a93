"""Modify and delete, cancellation, and every sandbox failure path including support retry."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.client import Client, WorkflowUpdateFailedError

from activities.events import EventLog
from activities.orders import OrderActivities
from domain.orders import ParkedOrder, ParkOrderInput, RetryOrderInput, order_workflow_id
from provisioning.sandbox import SandboxBackend
from store import orders
from tests.ordering import new_quote, order_body, place_order, wait_for_status
from tests.problems import assert_problem
from workflows.order import OrderWorkflow

ORDER = "/Customer/v3/Ordering/orderRequest"
OPERATIONS = "/Customer/v4/Ordering/operations"


async def _service(api: httpx.AsyncClient, headers: dict[str, str], sid: str) -> dict[str, Any]:
    response = await api.get(
        "/ProductInventory/v1/inventory", params={"serviceId": sid}, headers=headers
    )
    (service,) = response.json()["serviceInventory"]
    return service  # type: ignore[no-any-return]


def _bandwidth(service: dict[str, Any]) -> str:
    chars = {c["name"]: c["value"] for c in service["product"]["productCharacteristic"]}
    return str(chars["Bandwidth"])


async def _active_service(api: httpx.AsyncClient, acme: dict[str, str], name: str = "svc") -> str:
    created = await place_order(api, acme, order_body(await new_quote(api, acme), name=name))
    done = await wait_for_status(api, acme, created["id"])
    assert done["state"] == "SUCCEEDED", done
    return str(done["serviceId"])


async def test_modify_changes_bandwidth_with_a_new_quote(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    service_id = await _active_service(api, acme)
    quote_id = await new_quote(api, acme, speed="1 Gbps")
    body = order_body(quote_id, action="modify", service_id=service_id)
    created = await place_order(api, acme, body)
    done = await wait_for_status(api, acme, created["id"])
    assert done["state"] == "SUCCEEDED", done
    assert done["serviceId"] == service_id
    service = await _service(api, acme, service_id)
    assert service["status"] == "Active"
    assert _bandwidth(service) == "1000 Mbps"  # the catalogue's canonical form, as in the seed


async def test_modify_is_refused_for_unknown_or_foreign_service_or_same_speed(
    api: httpx.AsyncClient, acme: dict[str, str], globex: dict[str, str]
) -> None:
    service_id = await _active_service(api, acme)
    quote = await new_quote(api, globex, speed="1 Gbps", customer="1-XYZ99")
    theirs = order_body(quote, action="modify", service_id=service_id, account="5-XZ3KLM7Q")
    response = await api.post(ORDER, headers=globex, json=theirs)
    assert response.status_code in (404, 422)  # not their service (or not their account)
    unknown = order_body(
        await new_quote(api, acme, speed="1 Gbps"), action="modify", service_id="77999999999"
    )
    assert_problem(
        await api.post(ORDER, headers=acme, json=unknown), 404, "productOrderItem[0].product.id"
    )
    same = order_body(await new_quote(api, acme), action="modify", service_id=service_id)
    refused = assert_problem(await api.post(ORDER, headers=acme, json=same), 422, "quote[0].id")
    assert refused["errors"][0]["code"] == "QUOTE_MISMATCH"


async def test_delete_disconnects_and_releases_resources(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    service_id = await _active_service(api, acme)
    held = await pool.fetchval(
        "SELECT block::text FROM ipv4_allocations WHERE service_id = $1 AND released_at IS NULL",
        service_id,
    )
    assert held is not None
    created = await place_order(api, acme, order_body(None, action="delete", service_id=service_id))
    done = await wait_for_status(api, acme, created["id"])
    assert done["state"] == "SUCCEEDED", done
    assert (await _service(api, acme, service_id))["status"] == "Disconnected"
    live = await pool.fetchval(
        "SELECT count(*) FROM ipv4_allocations WHERE service_id = $1 AND released_at IS NULL",
        service_id,
    )
    assert live == 0
    again = order_body(None, action="delete", service_id=service_id)
    refused = assert_problem(
        await api.post(ORDER, headers=acme, json=again), 409, "productOrderItem[0].product.id"
    )
    assert refused["errors"][0]["code"] == "SERVICE_DISCONNECTED"


async def test_fail_order_trigger_fails_with_a_clear_code(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    created = await place_order(
        api, acme, order_body(await new_quote(api, acme), name="try FAIL-ORDER")
    )
    done = await wait_for_status(api, acme, created["id"])
    assert done["state"] == "FAILED"
    assert done["error"]["code"] == "ORDER_REJECTED"
    assert "rejected" in done["error"]["message"]
    assert done["orderId"] is None and done["serviceId"] is None


async def test_fail_provision_trigger_fails_and_releases_resources(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    created = await place_order(
        api, acme, order_body(await new_quote(api, acme), name="FAIL-PROVISION please")
    )
    done = await wait_for_status(api, acme, created["id"])
    assert done["state"] == "FAILED"
    assert done["error"]["code"] == "PROVISIONING_FAILED"
    assert done["orderId"] is not None and done["serviceId"] is None
    live = await pool.fetchval(
        "SELECT count(*) FROM ipv4_allocations WHERE order_request_id = $1::uuid"
        " AND released_at IS NULL",
        created["id"],
    )
    assert live == 0
    # The feed's DONE_FAILED names the orderId too, though the order failed in the same
    # backend step that placed it (the workflow never saw the number).
    payload = await pool.fetchval(
        "SELECT payload FROM order_events WHERE order_id = $1 AND event_type = 'DONE_FAILED'",
        created["id"],
    )
    assert payload["orderId"] == done["orderId"]
    op = (await api.get(f"{OPERATIONS}/{created['id']}", headers=acme)).json()
    assert op["status"] == "FAILED"
    assert op["error"]["errors"][0]["code"] == "PROVISIONING_FAILED"


async def test_transient_failures_below_the_attempt_limit_are_retried_automatically(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    created = await place_order(api, acme, order_body(await new_quote(api, acme), name="FLAKY-2"))
    done = await wait_for_status(api, acme, created["id"])
    assert done["state"] == "SUCCEEDED", done
    attempts = await pool.fetchval(
        "SELECT attempts FROM sandbox_attempts WHERE order_request_id = $1::uuid", created["id"]
    )
    assert attempts == 3  # two transient failures, then success (the limit is 3)


async def test_parked_order_resumes_from_the_failed_step_when_support_retries(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool, temporal_client: Client
) -> None:
    created = await place_order(api, acme, order_body(await new_quote(api, acme), name="FLAKY-3"))
    order_id = created["id"]
    parked = await wait_for_status(api, acme, order_id, step_contains="our team is on it")
    assert parked["state"] == "RUNNING"  # the customer sees a delay, not a failure
    handle = temporal_client.get_workflow_handle(order_workflow_id(order_id))
    progress = await handle.query(OrderWorkflow.progress)
    assert progress.state == "PARKED" and progress.parked_step == "provisioning service"
    order_number = parked["orderId"]

    await handle.execute_update(OrderWorkflow.retry, RetryOrderInput(reason="test"))
    done = await wait_for_status(api, acme, order_id)
    assert done["state"] == "SUCCEEDED", done
    assert done["orderId"] == order_number  # resumed, not re-ordered
    numbers = await pool.fetchval(
        "SELECT count(*) FROM sandbox_orders WHERE order_request_id = $1::uuid", order_id
    )
    assert numbers == 1


async def test_a_parked_backend_step_names_the_call_it_waits_at(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    """``park_order`` tells the two backend calls apart by what the order's row records."""
    done = await wait_for_status(
        api, acme, (await place_order(api, acme, order_body(await new_quote(api, acme))))["id"]
    )
    running_id = str(uuid.uuid4())
    await pool.execute(  # a copy of it, running and not yet placed with the provider
        "INSERT INTO order_requests (id, customer_number, external_id, action, channel, body,"
        " request_hash, state, step, created_at, started_at, updated_at)"
        " SELECT $2::uuid, customer_number, 'PARK-' || $2, action, channel, body,"
        " request_hash, 'RUNNING', 'accepted', now(), now(), now()"
        " FROM order_requests WHERE id = $1::uuid",
        done["id"],
        running_id,
    )
    steps = OrderActivities(pool, SandboxBackend(pool, 0, 0), EventLog("unused"))
    try:
        park = ParkOrderInput(order_request_id=running_id, action="add", message="delayed: x")
        before = await steps.park_order(park)
        assert before == ParkedOrder(step="creating order", order_number=None)
        async with pool.acquire() as conn:
            row = await orders.get(conn, running_id)
            assert row is not None and (row.step, row.step_message) == (
                "creating order",
                "delayed: x",
            )
            await orders.set_order_number(conn, running_id, "88000000999")
        after = await steps.park_order(park)
        assert after == ParkedOrder(step="provisioning service", order_number="88000000999")
        modify = park.model_copy(update={"action": "modify"})
        assert (await steps.park_order(modify)).step == "changing bandwidth"
    finally:
        await pool.execute("DELETE FROM order_requests WHERE id = $1::uuid", running_id)


async def test_support_retry_is_refused_while_the_order_is_not_parked(
    api: httpx.AsyncClient, acme: dict[str, str], temporal_client: Client
) -> None:
    created = await place_order(api, acme, order_body(await new_quote(api, acme), name="SLOW"))
    handle = temporal_client.get_workflow_handle(order_workflow_id(created["id"]))
    # SLOW makes every step take a while: the order is running, not waiting for support.
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(OrderWorkflow.retry, RetryOrderInput())
    assert "not waiting for support" in str(refused.value.cause)
    done = await wait_for_status(api, acme, created["id"])
    assert done["state"] == "SUCCEEDED", done
    progress = await handle.query(OrderWorkflow.progress)
    assert progress.support_retries == 0


async def test_hanging_step_times_out_parks_and_completes_after_support_retry(
    api: httpx.AsyncClient, acme: dict[str, str], temporal_client: Client
) -> None:
    created = await place_order(api, acme, order_body(await new_quote(api, acme), name="HANG"))
    await wait_for_status(api, acme, created["id"], step_contains="our team is on it")
    handle = temporal_client.get_workflow_handle(order_workflow_id(created["id"]))
    progress = await handle.query(OrderWorkflow.progress)
    assert progress.parked_reason and "timed out" in progress.parked_reason.lower()
    await handle.execute_update(OrderWorkflow.retry, RetryOrderInput())
    done = await wait_for_status(api, acme, created["id"])
    assert done["state"] == "SUCCEEDED", done


async def test_cancel_a_running_order_releases_everything(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    quote_id = await new_quote(api, acme)
    created = await place_order(api, acme, order_body(quote_id, name="FLAKY-9"))
    order_id = created["id"]
    await wait_for_status(api, acme, order_id, step_contains="our team is on it")
    cancel = await api.delete(f"{OPERATIONS}/{order_id}", headers=acme)
    assert cancel.status_code == 202
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        op = (await api.get(f"{OPERATIONS}/{order_id}", headers=acme)).json()
        if op["status"] != "RUNNING":
            break
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)
    assert op["status"] == "CANCELLED"
    v3 = (await api.get(f"{ORDER}/{order_id}", headers=acme)).json()
    assert v3["state"] == "FAILED" and v3["error"]["code"] == "ORDER_CANCELLED"
    live = await pool.fetchval(
        "SELECT count(*) FROM ipv4_allocations WHERE order_request_id = $1::uuid"
        " AND released_at IS NULL",
        order_id,
    )
    assert live == 0
    assert_problem(await api.delete(f"{OPERATIONS}/{order_id}", headers=acme), 409)

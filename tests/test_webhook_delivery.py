"""Webhook delivery end to end: the real append activity, the delivery workflow on the
session worker, and a real receiver on 127.0.0.1 verifying signatures with the
``standardwebhooks`` package."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from config.settings import Settings
from domain.events import OrderEventRecord
from domain.webhooks import WebhookDeliveryInput, delivery_workflow_id
from tests.ordering import new_quote, order_body, place_order, wait_for_status
from tests.test_event_support import (
    Appender,
    Customer,
    Receiver,
    deliveries,
    eventually,
    new_customer,
    order_event,
    subscribe,
)
from worker.registry import workflow_classes
from worker.sandbox import DirectContextSandboxedWorkflowRunner
from workflows.webhook_delivery import WebhookDeliveryWorkflow


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    r.stop()


@pytest.fixture
def appender(pool: asyncpg.Pool, settings: Settings, temporal_client: Client) -> Appender:
    return Appender(pool, settings, temporal_client)


async def _order_lifecycle(
    appender: Appender, customer: str, final: str = "DONE_SUCCESS"
) -> list[OrderEventRecord]:
    received = order_event(customer, "ORDER_RECEIVED")
    out = [await appender(received)]
    for event_type in ("ORDER_IN_PROGRESS", final):
        message = "" if event_type != "DONE_FAILED" else "Port is too busy"
        out.append(
            await appender(
                order_event(customer, event_type, order_id=received.order_id, message=message)
            )
        )
    return out


async def _received(receiver: Receiver, count: int) -> list[str] | None:
    ids = [r.message_id for r in receiver.order_events()]
    return ids if len(ids) >= count else None


def _history_text(node: Any) -> str:
    """The history with every payload's ``data`` (base64 in JSON) decoded."""
    if isinstance(node, dict):
        parts = []
        for name, value in node.items():
            if name == "data" and isinstance(value, str):
                parts.append(base64.b64decode(value).decode(errors="replace"))
            else:
                parts.append(_history_text(value))
        return "\n".join(parts)
    if isinstance(node, list):
        return "\n".join(_history_text(item) for item in node)
    return str(node)


async def _status(temporal: Client, sub_id: str) -> WorkflowExecutionStatus | None:
    return (await temporal.get_workflow_handle(delivery_workflow_id(sub_id)).describe()).status


async def test_events_arrive_signed_once_and_in_order(
    api: httpx.AsyncClient,
    pool: asyncpg.Pool,
    appender: Appender,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
    temporal_client: Client,
) -> None:
    caplog.set_level(logging.DEBUG)
    customer = await new_customer(pool)
    before = await appender(order_event(customer.number, "DONE_SUCCESS"))
    sub = await subscribe(api, customer, receiver)

    appended: list[OrderEventRecord] = []
    for final in ("DONE_SUCCESS", "DONE_FAILED", "DONE_SUCCESS"):
        appended += await _order_lifecycle(appender, customer.number, final)
    expected = [r.event_id for r in appended]

    got = await eventually(lambda: _received(receiver, len(expected)), "all events")
    assert got == expected  # in log order, each once; not the one from before subscribing
    assert before.event_id not in got
    assert receiver.rejected == []

    first = receiver.order_events()[0]
    assert first.message_id == first.body["eventId"]
    body = receiver.order_events()[2].body
    record = appended[2]
    assert body["eventType"] == "ProductOrderStateChangeEvent"
    assert body["event"]["orderEventType"] == "DONE_SUCCESS"
    order = body["event"]["productOrder"]
    assert order["id"] == record.order_id
    assert order["state"] == "completed"
    assert order["href"].endswith(record.order.path)
    assert order["orderId"] == "88000000001"
    assert body["event"]["serviceActivation"] == record.order.model_dump()
    failed = receiver.order_events()[5].body["event"]["productOrder"]
    assert failed["state"] == "failed" and failed["message"] == "Port is too busy"
    assert [r.body["event"]["productOrder"]["state"] for r in receiver.order_events()[:2]] == [
        "acknowledged",
        "inProgress",
    ]

    attempts = await deliveries(api, customer, sub["id"], limit=1000)
    assert sorted(a["eventId"] for a in attempts) == sorted(expected)
    assert {a["outcome"] for a in attempts} == {"delivered"}
    assert all(a["statusCode"] == 204 and a["attempt"] == 1 for a in attempts)
    one = await deliveries(api, customer, sub["id"], eventId=expected[0])
    assert [a["eventId"] for a in one] == [expected[0]]

    # The signing secret never reaches a log line, nor the workflow's history.
    key = sub["secret"].removeprefix("whsec_")
    assert key not in caplog.text
    history = await temporal_client.get_workflow_handle(
        delivery_workflow_id(sub["id"])
    ).fetch_history()
    text = _history_text(history.to_json_dict())
    assert f'"subscription_id":"{sub["id"]}"' in text  # payloads were decoded
    assert key not in text


async def test_query_selects_the_event_types_delivered(
    api: httpx.AsyncClient, pool: asyncpg.Pool, appender: Appender, receiver: Receiver
) -> None:
    customer = await new_customer(pool)
    await subscribe(api, customer, receiver, query="eventType=DONE_SUCCESS,DONE_FAILED")
    appended = await _order_lifecycle(appender, customer.number)
    appended += await _order_lifecycle(appender, customer.number, "DONE_FAILED")
    done = [r.event_id for r in appended if r.event_type.startswith("DONE_")]
    assert await eventually(lambda: _received(receiver, 2), "the DONE events") == done
    # A later event proves the skipped ones were passed over, not stuck.
    last = await appender(order_event(customer.number, "DONE_SUCCESS"))
    got = await eventually(lambda: _received(receiver, 3), "the next DONE event")
    assert got == [*done, last.event_id]


async def test_a_receiver_down_for_a_while_gets_everything_once_back(
    api: httpx.AsyncClient, pool: asyncpg.Pool, appender: Appender
) -> None:
    customer = await new_customer(pool)
    receiver = Receiver()
    receiver.start()
    receiver.stop()  # down: the port refuses connections
    sub = await subscribe(api, customer, receiver)
    try:
        appended = await _order_lifecycle(appender, customer.number)

        async def failed_attempts() -> list[dict[str, Any]] | None:
            tries = await deliveries(api, customer, sub["id"])
            failed = [a for a in tries if a["outcome"] == "failed"]
            return failed if len(failed) >= 3 else None

        failed = await eventually(failed_attempts, "retries of the first event")
        # It is the first event being retried (the same webhook-id), nothing after it.
        assert {a["eventId"] for a in failed} == {appended[0].event_id}
        assert sorted(a["attempt"] for a in failed)[:3] == [1, 2, 3]
        assert all(a["statusCode"] is None and a["error"] for a in failed)

        # More happens while it is down; then it comes back on the same port.
        appended += await _order_lifecycle(appender, customer.number, "DONE_FAILED")
        receiver.start()
        expected = [r.event_id for r in appended]
        got = await eventually(lambda: _received(receiver, len(expected)), "the backlog")
        assert got == expected  # nothing lost, nothing out of order, nothing twice
        assert receiver.rejected == []
    finally:
        receiver.stop()


async def test_410_disables_and_redelivery_reenables(
    api: httpx.AsyncClient,
    pool: asyncpg.Pool,
    appender: Appender,
    receiver: Receiver,
    temporal_client: Client,
) -> None:
    customer = await new_customer(pool)
    receiver.status = 410
    sub = await subscribe(api, customer, receiver)
    path = f"/hub/{sub['id']}"
    gone = await appender(order_event(customer.number, "DONE_SUCCESS"))

    async def disabled() -> dict[str, Any] | None:
        shown = (await api.get(path, headers=customer.headers)).json()
        return shown if shown["status"] == "disabled" else None

    shown = await eventually(disabled, "the subscription to be disabled")
    assert "410" in shown["disabledReason"]
    attempts = await deliveries(api, customer, sub["id"])
    assert [(a["eventId"], a["outcome"], a["statusCode"]) for a in attempts] == [
        (gone.event_id, "gone", 410)
    ]

    async def finished() -> bool:
        return await _status(temporal_client, sub["id"]) == WorkflowExecutionStatus.COMPLETED

    await eventually(finished, "the delivery workflow to end")
    handle = temporal_client.get_workflow_handle(delivery_workflow_id(sub["id"]))
    run_id = (await handle.describe()).run_id
    # A disabled subscription is not woken by new events.
    later = await appender(order_event(customer.number, "DONE_FAILED", message="x"))
    assert (await handle.describe()).run_id == run_id

    # The receiver is back; a redelivery of everything re-enables the subscription.
    receiver.status = 204
    response = await api.post(f"{path}/redeliver", headers=customer.headers)
    assert response.status_code == 202, response.text
    assert (await api.get(path, headers=customer.headers)).json()["status"] == "active"
    got = await eventually(lambda: _received(receiver, 2), "the redelivered events")
    assert got == [gone.event_id, later.event_id]

    # Both runs (ended by the 410; restarted by the redelivery) replay deterministically.
    replayer = Replayer(
        workflows=workflow_classes(),
        data_converter=pydantic_data_converter,
        workflow_runner=DirectContextSandboxedWorkflowRunner(),
    )
    first_run = temporal_client.get_workflow_handle(handle.id, run_id=run_id)
    await replayer.replay_workflow(await first_run.fetch_history())
    await replayer.replay_workflow(await handle.fetch_history())


async def test_reenabling_with_a_later_since_still_delivers_what_was_never_delivered(
    api: httpx.AsyncClient, pool: asyncpg.Pool, appender: Appender, receiver: Receiver
) -> None:
    customer = await new_customer(pool)
    receiver.status = 410
    sub = await subscribe(api, customer, receiver)
    path = f"/hub/{sub['id']}"
    first = await appender(order_event(customer.number, "DONE_SUCCESS"))

    async def disabled() -> bool:
        return bool((await api.get(path, headers=customer.headers)).json()["status"] == "disabled")

    await eventually(disabled, "the subscription to be disabled")
    second = await appender(order_event(customer.number, "DONE_SUCCESS"))
    third = await appender(order_event(customer.number, "DONE_SUCCESS"))
    receiver.status = 204
    response = await api.post(
        f"{path}/redeliver", headers=customer.headers, params={"since": second.event_id}
    )
    assert response.status_code == 202, response.text
    # `since` only ever moves the cursor back: the never-delivered events still come.
    got = await eventually(lambda: _received(receiver, 3), "the pending events")
    assert got == [first.event_id, second.event_id, third.event_id]


async def test_redeliver_since_replays_the_later_events_with_the_same_ids(
    api: httpx.AsyncClient, pool: asyncpg.Pool, appender: Appender, receiver: Receiver
) -> None:
    customer = await new_customer(pool)
    sub = await subscribe(api, customer, receiver)
    appended = await _order_lifecycle(appender, customer.number)
    ids = [r.event_id for r in appended]
    assert await eventually(lambda: _received(receiver, 3), "the events") == ids

    response = await api.post(
        f"/hub/{sub['id']}/redeliver", headers=customer.headers, params={"since": ids[0]}
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"subscriptionId": sub["id"], "since": ids[0], "status": "accepted"}
    got = await eventually(lambda: _received(receiver, 5), "the replay")
    assert got == [*ids, *ids[1:]]
    assert receiver.rejected == []


async def test_test_event_is_signed_and_reported(
    api: httpx.AsyncClient, pool: asyncpg.Pool, receiver: Receiver
) -> None:
    customer = await new_customer(pool)
    sub = await subscribe(api, customer, receiver)
    response = await api.post(f"/hub/{sub['id']}/test", headers=customer.headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["outcome"] == "delivered" and result["statusCode"] == 204
    [test] = [r for r in receiver.received if r.message_id == result["eventId"]]
    assert test.body["eventType"] == "WebhookTestEvent"
    assert receiver.rejected == []

    receiver.status = 500
    failing = (await api.post(f"/hub/{sub['id']}/test", headers=customer.headers)).json()
    assert failing["outcome"] == "failed" and failing["statusCode"] == 500
    attempts = await deliveries(api, customer, sub["id"])
    assert [(a["eventType"], a["outcome"]) for a in attempts] == [
        ("TEST", "failed"),
        ("TEST", "delivered"),
    ]
    # A failed test changes nothing about the subscription.
    shown = await api.get(f"/hub/{sub['id']}", headers=customer.headers)
    assert shown.json()["status"] == "active"


async def test_continue_as_new_carries_the_cursor(
    api: httpx.AsyncClient,
    pool: asyncpg.Pool,
    appender: Appender,
    receiver: Receiver,
    temporal_client: Client,
    settings: Settings,
) -> None:
    """With a tiny history limit the workflow continues as new again and again; every
    event still arrives once, in order."""
    customer = await new_customer(pool)
    sub = await subscribe(api, customer, receiver)
    workflow_id = delivery_workflow_id(sub["id"])
    await temporal_client.get_workflow_handle(workflow_id).terminate("test: restart")
    first = await temporal_client.start_workflow(
        WebhookDeliveryWorkflow.run,
        WebhookDeliveryInput(
            subscription_id=sub["id"], customer_number=customer.number, history_limit=40
        ),
        id=workflow_id,
        task_queue=settings.task_queue,
    )
    appended: list[OrderEventRecord] = []
    for _ in range(4):
        appended += await _order_lifecycle(appender, customer.number)
    expected = [r.event_id for r in appended]
    got = await eventually(lambda: _received(receiver, len(expected)), "all events")
    assert got == expected
    first_run = temporal_client.get_workflow_handle(workflow_id, run_id=first.result_run_id)

    async def first_run_continued_as_new() -> bool:
        # The receiver can hear of the last event before the workflow sees its delivery
        # complete (and only then, its batch done, continues as new).
        status = (await first_run.describe()).status
        return status == WorkflowExecutionStatus.CONTINUED_AS_NEW

    assert await eventually(first_run_continued_as_new, "the first run to continue as new")


async def test_deleting_a_subscription_stops_its_workflow(
    api: httpx.AsyncClient, pool: asyncpg.Pool, receiver: Receiver, temporal_client: Client
) -> None:
    customer = await new_customer(pool)
    sub = await subscribe(api, customer, receiver)

    async def running() -> bool:
        return await _status(temporal_client, sub["id"]) == WorkflowExecutionStatus.RUNNING

    await eventually(running, "the delivery workflow")
    assert (await api.delete(f"/hub/{sub['id']}", headers=customer.headers)).status_code == 204

    async def stopped() -> bool:
        return await _status(temporal_client, sub["id"]) == WorkflowExecutionStatus.CANCELED

    await eventually(stopped, "the delivery workflow to stop")


@pytest.mark.slow
async def test_an_internet_on_demand_order_is_notified(
    api: httpx.AsyncClient, acme: dict[str, str], receiver: Receiver
) -> None:
    """The order workflow's own events reach the customer's callback."""
    customer = Customer("1-ABCDE", acme)
    sub = await subscribe(api, customer, receiver)
    try:
        created = await place_order(api, acme, order_body(await new_quote(api, acme)))
        order_id = created["id"]
        done = await wait_for_status(api, acme, order_id)
        assert done["state"] == "SUCCEEDED", done

        async def this_order() -> list[dict[str, Any]] | None:
            mine = [
                r.body
                for r in receiver.order_events()
                if r.body["event"]["productOrder"]["id"] == order_id
            ]
            return mine if mine and mine[-1]["event"]["orderEventType"] == "DONE_SUCCESS" else None

        events = await eventually(this_order, "the order's events")
        assert [e["event"]["orderEventType"] for e in events][-1] == "DONE_SUCCESS"
        final = events[-1]["event"]["productOrder"]
        assert final["state"] == "completed"
        assert final["serviceId"] == done["serviceId"]
        assert final["href"].endswith(f"/Customer/v3/Ordering/orderRequest/{order_id}")
        assert receiver.rejected == []
    finally:
        await api.delete(f"/hub/{sub['id']}", headers=acme)

"""Support tooling as support runs it: ``iod orders show|retry|cancel|replay|export-history``."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import httpx
from temporalio.client import Client

from tests.ordering import new_quote, order_body, place_order, wait_for_status

PARKED = "our team is on it"


async def _iod(temporal_client: Client, *args: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOD_")}
    env["IOD_TEMPORAL_ADDRESS"] = temporal_client.service_client.config.target_host
    env["IOD_TEMPORAL_NAMESPACE"] = temporal_client.namespace
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_support_retries_a_parked_order_from_the_command_line(
    api: httpx.AsyncClient, acme: dict[str, str], temporal_client: Client
) -> None:
    created = await place_order(api, acme, order_body(await new_quote(api, acme), name="FLAKY-3"))
    order_id = created["id"]
    await wait_for_status(api, acme, order_id, step_contains=PARKED)

    code, output = await _iod(temporal_client, "orders", "show", order_id)
    assert code == 0, output
    progress = json.loads(output[output.index("{") :])
    assert progress["parked_step"] is not None
    assert progress["support_retries"] == 0

    code, output = await _iod(temporal_client, "orders", "retry", order_id, "--reason", "ticket 7")
    assert code == 0, output
    assert "support retry #1" in output
    done = await wait_for_status(api, acme, order_id)
    assert done["state"] == "SUCCEEDED", done

    # A finished order is not parked: support gets a clear refusal, and nothing changes.
    await temporal_client.get_workflow_handle(f"order-{order_id}").result()
    code, output = await _iod(temporal_client, "orders", "retry", order_id)
    assert code == 1, output
    assert output.strip() == f"order {order_id} has already finished: not retried"
    code, output = await _iod(temporal_client, "orders", "show", "no-such-order")
    assert (code, output.strip()) == (1, "no order no-such-order")
    assert (await wait_for_status(api, acme, order_id))["state"] == "SUCCEEDED"


async def test_support_cancels_a_running_order_from_the_command_line(
    api: httpx.AsyncClient, acme: dict[str, str], temporal_client: Client
) -> None:
    created = await place_order(api, acme, order_body(await new_quote(api, acme), name="FLAKY-9"))
    order_id = created["id"]
    await wait_for_status(api, acme, order_id, step_contains=PARKED)
    code, output = await _iod(temporal_client, "orders", "cancel", order_id)
    assert code == 0, output
    operation = await api.get(f"/Customer/v4/Ordering/operations/{order_id}", headers=acme)
    deadline = asyncio.get_running_loop().time() + 30
    while operation.json()["status"] != "CANCELLED":
        assert asyncio.get_running_loop().time() < deadline, operation.json()
        await asyncio.sleep(0.05)
        operation = await api.get(f"/Customer/v4/Ordering/operations/{order_id}", headers=acme)


async def test_support_replays_an_order_and_an_exported_history(
    api: httpx.AsyncClient, acme: dict[str, str], temporal_client: Client, tmp_path: Path
) -> None:
    created = await place_order(api, acme, order_body(await new_quote(api, acme)))
    order_id = created["id"]
    assert (await wait_for_status(api, acme, order_id))["state"] == "SUCCEEDED"
    await temporal_client.get_workflow_handle(f"order-{order_id}").result()

    code, output = await _iod(temporal_client, "orders", "replay", order_id)
    assert code == 0, output
    assert "deterministic" in output

    exported = tmp_path / "history.json"
    code, output = await _iod(temporal_client, "orders", "export-history", order_id, str(exported))
    assert code == 0, output
    assert json.loads(exported.read_text())["events"]

    # A history that no longer matches the code (here: a recorded order with one of its
    # activity types renamed) is reported as non-deterministic, with a failing exit code.
    tampered = json.loads(exported.read_text())
    for event in tampered["events"]:
        scheduled = event.get("activityTaskScheduledEventAttributes")
        if scheduled and scheduled["activityType"]["name"] == "fulfil_order":
            scheduled["activityType"]["name"] = "fulfil_order_v0"
    exported.write_text(json.dumps(tampered))
    code, output = await _iod(
        temporal_client, "orders", "replay", order_id, "--file", str(exported)
    )
    assert code == 1, output
    assert "NON-DETERMINISTIC" in output

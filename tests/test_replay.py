"""Replay recorded order histories against the current workflow code.

A change that would break orders already running (non-determinism) fails here. The
histories in ``tests/histories/<version>/`` were recorded from real runs, one folder
per version of the workflow (a ``workflow.patched`` change); every version must keep
replaying for as long as orders started under it can still be running. After a
deliberate, patched change, record the new version's histories (into ``CURRENT``)
and keep the older folders:

    IOD_RECORD_HISTORIES=1 .venv/bin/python -m pytest tests/test_replay.py -k test_record_histories
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from domain.orders import RetryOrderInput, order_workflow_id
from tests.changed_workflow import ChangedWorkflow
from tests.ordering import new_quote, order_body, place_order, wait_for_status
from worker.registry import workflow_classes
from worker.sandbox import DirectContextSandboxedWorkflowRunner
from workflows.order import OrderWorkflow

HISTORIES = Path(__file__).parent / "histories"
CURRENT = HISTORIES / "v3"  # one backend activity (workflows.order.ONE_BACKEND_STEP)
SCENARIOS = {"succeeded", "failed", "parked-then-retried", "cancelled", "modified", "deleted"}


def _recorded() -> list[Path]:
    return sorted(HISTORIES.glob("*/*.json"))


def _versions() -> list[Path]:
    return sorted(p for p in HISTORIES.iterdir() if p.is_dir())


@pytest.mark.parametrize("version", _versions(), ids=lambda p: p.name)
def test_every_scenario_has_a_recorded_history(version: Path) -> None:
    assert {p.stem for p in version.glob("*.json")} >= SCENARIOS


def test_the_current_version_is_recorded() -> None:
    assert CURRENT in _versions()


@pytest.mark.parametrize("path", _recorded(), ids=lambda p: f"{p.parent.name}-{p.stem}")
async def test_recorded_history_replays_deterministically(path: Path) -> None:
    history = WorkflowHistory.from_json(f"replay-{path.stem}", json.loads(path.read_text()))
    replayer = Replayer(
        workflows=workflow_classes(),
        data_converter=pydantic_data_converter,
        workflow_runner=DirectContextSandboxedWorkflowRunner(),
    )
    await replayer.replay_workflow(history)  # raises on non-determinism


def _scheduled_and_markers(path: Path) -> tuple[list[str], list[str]]:
    events = json.loads(path.read_text())["events"]
    scheduled = [
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in events
        if "activityTaskScheduledEventAttributes" in e
    ]
    markers = [
        e["markerRecordedEventAttributes"]["markerName"]
        for e in events
        if "markerRecordedEventAttributes" in e
    ]
    return scheduled, markers


def test_current_orders_make_one_round_trip_through_the_server_for_the_backend() -> None:
    """Since ``one-backend-step``, a successful order's only regular activity is its
    backend step; since ``local-bookkeeping``, the bookkeeping runs locally; before it,
    every step was an activity."""
    scheduled, markers = _scheduled_and_markers(CURRENT / "succeeded.json")
    assert scheduled == ["fulfil_order"]
    assert markers.count("core_patch") == 2
    assert markers.count("core_local_activity") == 2  # accept, complete
    v2_scheduled, v2_markers = _scheduled_and_markers(HISTORIES / "v2" / "succeeded.json")
    assert v2_scheduled == ["create_order", "provision_service"]
    assert v2_markers.count("core_patch") == 1
    v1_scheduled, v1_markers = _scheduled_and_markers(HISTORIES / "v1" / "succeeded.json")
    assert "accept_order" in v1_scheduled and "record_service" in v1_scheduled
    assert v1_markers == []


async def test_replay_detects_a_changed_workflow() -> None:
    """The replay check is real: a workflow with a different step order fails it."""
    path = CURRENT / "succeeded.json"
    history = WorkflowHistory.from_json("changed", json.loads(path.read_text()))
    replayer = Replayer(
        workflows=[ChangedWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=DirectContextSandboxedWorkflowRunner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None


@pytest.mark.skipif(not os.environ.get("IOD_RECORD_HISTORIES"), reason="records on request")
async def test_record_histories(
    api: httpx.AsyncClient, acme: dict[str, str], temporal_client: Client
) -> None:
    async def run(name: str, body: dict[str, object]) -> str:
        created = await place_order(api, acme, body)
        return str(created["id"])

    async def save(scenario: str, order_id: str) -> None:
        await wait_for_status(api, acme, order_id)
        handle = temporal_client.get_workflow_handle(order_workflow_id(order_id))
        try:
            await handle.result()
        except WorkflowFailureError:
            pass  # the cancelled order: its history is what we record
        history = await handle.fetch_history()
        CURRENT.mkdir(parents=True, exist_ok=True)
        (CURRENT / f"{scenario}.json").write_text(history.to_json())

    ok = await run("ok", order_body(await new_quote(api, acme)))
    await save("succeeded", ok)
    service_id = (await wait_for_status(api, acme, ok))["serviceId"]
    failed = await run("failed", order_body(await new_quote(api, acme), name="FAIL-PROVISION"))
    await save("failed", failed)

    parked = await run("parked", order_body(await new_quote(api, acme), name="FLAKY-3"))
    await wait_for_status(api, acme, parked, step_contains="our team is on it")
    handle = temporal_client.get_workflow_handle(order_workflow_id(parked))
    await handle.execute_update(OrderWorkflow.retry, RetryOrderInput())
    await save("parked-then-retried", parked)

    cancelled = await run("cancel", order_body(await new_quote(api, acme), name="FLAKY-9"))
    await wait_for_status(api, acme, cancelled, step_contains="our team is on it")
    await temporal_client.get_workflow_handle(order_workflow_id(cancelled)).cancel()
    await save("cancelled", cancelled)

    modify = order_body(
        await new_quote(api, acme, speed="1 Gbps"), action="modify", service_id=service_id
    )
    await save("modified", await run("modify", modify))
    delete = order_body(None, action="delete", service_id=service_id)
    await save("deleted", await run("delete", delete))

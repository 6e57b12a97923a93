"""Support tooling: ``iod orders show|retry|cancel|replay|export-history``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from temporalio.client import Client, WorkflowHistory, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from domain.orders import RetryOrderInput, order_workflow_id
from worker.registry import workflow_classes
from worker.sandbox import DirectContextSandboxedWorkflowRunner
from workflows.order import OrderWorkflow


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    orders = sub.add_parser("orders", help="support: inspect, retry, cancel or replay an order")
    actions = orders.add_subparsers(dest="action", required=True)
    for name, text in [
        ("show", "print the order's live progress (from its workflow)"),
        ("retry", "re-run the step a parked order is waiting on"),
        ("cancel", "cancel a running order (resources are released)"),
        ("replay", "replay the order's history against the current code"),
    ]:
        command = actions.add_parser(name, help=text)
        command.add_argument("order_request_id")
        if name == "retry":
            command.add_argument("--reason", default="retried by support")
        if name == "replay":
            command.add_argument("--file", type=Path, help="a history exported earlier")
    export = actions.add_parser("export-history", help="write the order's history as JSON")
    export.add_argument("order_request_id")
    export.add_argument("file", type=Path)


async def run(client: Client, args: argparse.Namespace) -> int:
    try:
        return await _run(client, args)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND and "completed" in err.message:
            print(f"order {args.order_request_id} has already finished: not retried")
        elif err.status == RPCStatusCode.NOT_FOUND:
            print(f"no order {args.order_request_id}")
        else:
            print(f"order {args.order_request_id}: {err.message}")
        return 1


async def _run(client: Client, args: argparse.Namespace) -> int:
    handle = client.get_workflow_handle(order_workflow_id(args.order_request_id))
    match args.action:
        case "show":
            progress = await handle.query(OrderWorkflow.progress)
            print(progress.model_dump_json(indent=2))
        case "retry":
            try:
                result = await handle.execute_update(
                    OrderWorkflow.retry, RetryOrderInput(reason=args.reason)
                )
            except WorkflowUpdateFailedError as err:
                print(f"not retried: {err.cause}")
                return 1
            print(f"resumed step '{result.resumed_step}' (support retry #{result.support_retries})")
        case "cancel":
            await handle.cancel()
            print("cancellation requested")
        case "export-history":
            history = await handle.fetch_history()
            args.file.write_text(history.to_json())
            print(f"wrote {args.file}")
        case "replay":
            if args.file:
                history = WorkflowHistory.from_json(handle.id, json.loads(args.file.read_text()))
            else:
                history = await handle.fetch_history()
            return await replay(history)
    return 0


async def replay(history: WorkflowHistory) -> int:
    replayer = Replayer(
        workflows=workflow_classes(),
        data_converter=pydantic_data_converter,
        workflow_runner=DirectContextSandboxedWorkflowRunner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    if result.replay_failure is not None:
        print(f"NON-DETERMINISTIC: {result.replay_failure}")
        return 1
    print(f"replayed {history.workflow_id}: deterministic")
    return 0

"""How an order request's status is shown: the v3 status lookup and the v4 operation."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import Response

from api.finished_orders import FinishedOrders
from domain.orders import OrderState
from store.orders import OrderRequestRow

V3_PATH = "/Customer/v3/Ordering/orderRequest"
OPERATIONS_PATH = "/Customer/v4/Ordering/operations"

# A rough progress figure per step for the long-running-operation view.
_PERCENT_BY_STEP = {
    "received": 0,
    "accepted": 10,
    "order created": 30,
    "resources allocated": 50,
    "service recorded in inventory": 90,
    "completed": 100,
}


def status_answer(
    row: OrderRequestRow,
    view: str,
    render: Callable[[], dict[str, Any]],
    finished: FinishedOrders,
    retry_after_seconds: int,
) -> Response:
    """A status lookup's answer: while the order runs, ``Retry-After`` says when to ask
    again; a finished order's body is encoded once (``finished`` keeps it)."""
    headers = {} if row.state.terminal else {"Retry-After": str(retry_after_seconds)}
    body = finished.answer(row, view, lambda: json_bytes(render()))
    return Response(body, media_type="application/json", headers=headers)


def v3_state(row: OrderRequestRow) -> str:
    """Seed 000: RUNNING, SUCCEEDED or FAILED (a cancelled order FAILED, code ORDER_CANCELLED)."""
    return "FAILED" if row.state == OrderState.CANCELLED else row.state.value


def error_of(row: OrderRequestRow) -> dict[str, str] | None:
    if row.state not in (OrderState.FAILED, OrderState.CANCELLED):
        return None
    return {"code": row.error_code or "FAILED", "message": row.error_message or ""}


def json_bytes(content: dict[str, Any]) -> bytes:
    """Encoded exactly as ``JSONResponse`` encodes it."""
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


def v3_status(row: OrderRequestRow) -> dict[str, Any]:
    return {
        **row.body,
        "state": v3_state(row),
        "orderId": row.order_number,
        "serviceId": row.service_id,
        "error": error_of(row),
    }


def operation(row: OrderRequestRow) -> dict[str, Any]:
    succeeded = row.state == OrderState.SUCCEEDED
    error = None
    if row.state in (OrderState.FAILED, OrderState.CANCELLED):
        error = {
            "type": "about:blank",
            "title": "Order cancelled" if row.state == OrderState.CANCELLED else "Order failed",
            "status": 422,
            "detail": row.error_message or "",
            "errors": [{"code": row.error_code or "FAILED", "message": row.error_message or ""}],
        }
    return {
        "operationId": row.id,
        "status": row.state.value,
        "startedAt": row.started_at or row.created_at,
        "completedAt": row.completed_at,
        "percent": _PERCENT_BY_STEP.get(row.step, 70 if row.state == OrderState.RUNNING else 0),
        "resource": {
            "id": row.id,
            "href": f"{V3_PATH}/{row.id}",
            "orderId": row.order_number,
            "serviceId": row.service_id,
        }
        if succeeded
        else None,
        "error": error,
        "metadata": {"step": row.step, "message": row.step_message},
    }

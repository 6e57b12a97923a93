"""Seed 000 option 2: the order as a long-running operation (LRO standard)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from temporalio.client import Client

from api.deps import PoolDep, PrincipalDep, Services, SettingsDep, TemporalDep
from api.finished_orders import find_order
from api.hand_resolved import hand_resolved_get
from api.openapi import problems
from api.order_intake import prepare_iod_order, submit
from api.order_views import OPERATIONS_PATH, operation, status_answer
from api.problems import ErrorItem, Problem, not_found
from api.routers.order_requests import ORDER_REFUSALS, IdempotencyKey
from domain.order_request import OrderRequestBody
from domain.orders import order_workflow_id

router = APIRouter(tags=["Ordering (long-running operations)"])


@router.post(
    "/Customer/v4/Ordering/orderRequest",
    status_code=202,
    summary="Submit an order request as a long-running operation",
    responses={
        202: {"headers": {"Location": {"description": "The operation"}}},
        **ORDER_REFUSALS,
    },
)
async def create_order_operation(
    body: OrderRequestBody,
    principal: PrincipalDep,
    pool: PoolDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Same body as v3; answers 202 with `Location` of the operation and `Retry-After`."""
    new, spec = await prepare_iod_order(
        pool, principal.customer_number, body, idempotency_key, "v4"
    )
    submission = await submit(pool, temporal, settings, new, spec)
    row = submission.row
    headers = {"Location": f"{OPERATIONS_PATH}/{row.id}"}
    if not row.state.terminal:
        headers["Retry-After"] = str(settings.status_retry_after_seconds)
    if submission.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(_json(operation(row)), status_code=202, headers=headers)


# Polled like the v3 status lookup: parameters resolved by hand (api/hand_resolved.py).
@hand_resolved_get(
    router,
    f"{OPERATIONS_PATH}/{{operation_id}}",
    summary="Poll an operation",
    response_model=dict[str, Any],
    responses=problems({404: "No operation of yours with that id"}),
)
async def get_operation(operation_id: str, principal: PrincipalDep, request: Request) -> Response:
    app = Services.of(request)
    row = await find_order(app, principal.customer_number, operation_id)
    if row is None:
        raise not_found(f"operation {operation_id}", "operationId")
    return status_answer(
        row,
        "v4",
        lambda: jsonable_encoder(operation(row)),
        app.finished_orders,
        app.settings.status_retry_after_seconds,
    )


@router.delete(
    f"{OPERATIONS_PATH}/{{operation_id}}",
    status_code=202,
    summary="Cancel a running operation",
    responses=problems(
        {404: "No operation of yours with that id", 409: "The operation already ended"}
    ),
)
async def cancel_operation(
    operation_id: str,
    principal: PrincipalDep,
    request: Request,
    temporal: TemporalDep,
) -> dict[str, Any]:
    """Requests cancellation; the operation ends CANCELLED unless the service is already
    live, in which case it completes. A finished operation can't be cancelled (409)."""
    app = Services.of(request)
    row = await find_order(app, principal.customer_number, operation_id)
    if row is None:
        raise not_found(f"operation {operation_id}", "operationId")
    if row.state.terminal:
        raise Problem(
            409,
            f"The operation already ended {row.state.value}",
            errors=[
                ErrorItem(
                    code="operation_finished",
                    message="a finished operation can't be cancelled",
                    field="operationId",
                )
            ],
        )
    await request_cancel(temporal, row.id)
    return operation(row)


async def request_cancel(temporal: Client, order_request_id: str) -> None:
    await temporal.get_workflow_handle(order_workflow_id(order_request_id)).cancel()


def _json(view: dict[str, Any]) -> dict[str, Any]:
    encoded: dict[str, Any] = jsonable_encoder(view)
    return encoded

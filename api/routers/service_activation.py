"""Service Activation API 2.3.1 orders (the open-network dialect of seed 002).

Errors keep this dialect's ``{"cause": "…"}`` member, inside the platform's one problem
format. The orders run as the same order workflow as Internet On-Demand orders.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from api.deps import PoolDep, PrincipalDep, Services, SettingsDep, TemporalDep
from api.finished_orders import find_order
from api.openapi import sa_problems
from api.order_intake import request_hash, submit
from api.problems import ErrorItem, Problem, field_path
from domain.orders import OrderSpec, SaIdentity, new_order_request_id
from domain.service_activation import BASE_PATH, SaOrderBody, sa_state
from store import orders, services
from store.billing import get_default_us_account
from store.orders import NewOrderRequest, OrderRequestRow

router = APIRouter(tags=["Service Activation 2.3.1"])


class SaOrder(BaseModel):
    """A Service Activation order as the API shows it."""

    path: str = Field(description="The order's own path, `/api/2.3.1/orders/{id}`")
    accessId: str
    service: str
    operation: Literal["ACTIVATE", "DEACTIVATE"]
    state: Literal["RECEIVED", "DONE_SUCCESS", "DONE_FAILED"] = Field(
        description="`RECEIVED` until the order ends: then poll the order event feed"
    )
    message: str = Field(description="Why the order failed; empty otherwise")


_LOCATION = {"Location": {"description": "The order", "schema": {"type": "string"}}}


def _cause(message: str, field: str | None = None, status: int = 400) -> Problem:
    return Problem(
        status,
        message,
        errors=[
            ErrorItem(
                code="invalid" if status == 400 else "not_found", message=message, field=field
            )
        ],
        extensions={"cause": message},
    )


def sa_view(row: OrderRequestRow) -> dict[str, Any]:
    body = row.body
    return {
        "path": f"{BASE_PATH}/{row.id}",
        "accessId": body["accessId"],
        "service": body["service"],
        "operation": body["operation"],
        "state": sa_state(row.state),
        "message": row.error_message or "",
    }


async def _parse(request: Request) -> SaOrderBody:
    try:
        raw = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _cause("the body is not valid JSON") from None
    try:
        return SaOrderBody.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        field = field_path(first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise _cause(f"{field}: {message}" if field else message, field) from None


@router.post(
    f"{BASE_PATH}/",
    status_code=201,
    summary="Activate or deactivate a service",
    response_model=SaOrder,
    responses={
        200: {
            "model": SaOrder,
            "description": "Already in place (or under way): the order that put it there",
            "headers": _LOCATION,
        },
        201: {"description": "The order, `RECEIVED`", "headers": _LOCATION},
        **sa_problems(
            {
                400: "Invalid body, unknown service or `accessId`, another active service at "
                "the access, no US billing account, or a refusal of the order"
            }
        ),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": SaOrderBody.model_json_schema()}},
        }
    },
)
async def create_sa_order(
    request: Request,
    principal: PrincipalDep,
    pool: PoolDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> JSONResponse:
    body = await _parse(request)
    customer = principal.customer_number
    async with pool.acquire() as conn:
        latest = await orders.latest_for_access(conn, customer, body.accessId)
        live = await services.live_at_site(conn, customer, body.accessId)
        account = await get_default_us_account(conn, customer)
    existing = _already_done(body, latest, live is not None)
    if existing is not None:
        return JSONResponse(
            sa_view(existing), status_code=200, headers={"Location": f"{BASE_PATH}/{existing.id}"}
        )
    if body.operation == "ACTIVATE" and live is not None:
        raise _cause(f"access {body.accessId} has another active service", "service")
    if body.operation == "DEACTIVATE" and live is None:
        raise _cause(f"unknown accessId {body.accessId}: nothing is active there", "accessId")
    if account is None:
        raise _cause("the customer has no US billing account to bill the service to")

    order_id = new_order_request_id()
    echo = body.model_dump(mode="json")
    new = NewOrderRequest(
        id=order_id,
        customer_number=customer,
        external_id=f"SA-{order_id[:16]}",
        idempotency_key=request.headers.get("Idempotency-Key"),
        action="add" if body.operation == "ACTIVATE" else "delete",
        channel="sa",
        body=echo,
        request_hash=request_hash(echo),
        quote_id=None,
        target_service_id=live.service_id if live else None,
        access_id=body.accessId,
    )
    spec = OrderSpec(
        order_request_id=order_id,
        customer_number=customer,
        external_id=new.external_id,
        action=new.action,
        channel="sa",
        service_id=new.target_service_id,
        billing_account_id=account.id,
        billing_account_name=account.name,
        customer_service_name=body.spReference or body.accessId,
        ipv4_block_size="/30",
        submitted_at=datetime.now(UTC),
        sa=SaIdentity(access_id=body.accessId, service=body.service, speed=body.speed),
    )
    try:
        submission = await submit(
            pool, temporal, settings, new, spec, field_names=("service", "accessId")
        )
    except Problem as problem:
        if problem.status in (404, 409, 422):
            raise _cause(
                problem.detail, problem.errors[0].field if problem.errors else None
            ) from None
        raise
    row = submission.row
    return JSONResponse(
        sa_view(row),
        status_code=200 if submission.replayed else 201,
        headers={"Location": f"{BASE_PATH}/{row.id}"},
    )


def _already_done(
    body: SaOrderBody, latest: OrderRequestRow | None, live: bool
) -> OrderRequestRow | None:
    """Re-ordering what is already in place answers 200 with the order that put it there."""
    if latest is None or latest.body.get("operation") != body.operation:
        return None
    if latest.state.value not in ("RUNNING", "SUCCEEDED"):
        return None
    if body.operation == "ACTIVATE":
        return (
            latest
            if latest.body.get("service") == body.service
            and (live or latest.state.value == "RUNNING")
            else None
        )
    return latest if not live or latest.state.value == "RUNNING" else None


@router.get(
    f"{BASE_PATH}/{{order_id}}",
    summary="One Service Activation order",
    response_model=SaOrder,
    responses=sa_problems({404: "No Service Activation order of yours with that id"}),
)
async def get_sa_order(order_id: str, principal: PrincipalDep, request: Request) -> dict[str, Any]:
    app = Services.of(request)
    row = await find_order(app, principal.customer_number, order_id)
    if row is None or row.channel != "sa":
        raise _cause(f"order {order_id} was not found", "id", status=404)
    return sa_view(row)

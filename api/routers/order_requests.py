"""Seed 001 step 6 and seed 000 option 1: submit an order request, then look up its status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response

from api.deps import PoolDep, PrincipalDep, Services, SettingsDep, TemporalDep
from api.finished_orders import find_order
from api.hand_resolved import hand_resolved_get
from api.openapi import problems
from api.order_intake import prepare_iod_order, submit
from api.order_views import V3_PATH, status_answer, v3_status
from api.problems import not_found
from domain.order_request import OrderRequestBody

router = APIRouter(tags=["Ordering"])

ORDER_REFUSALS = problems(
    {
        400: "The order request is invalid: each error names its `field`",
        404: "The service to change or disconnect is not one of yours",
        409: "The quote was already used, the service is busy or disconnected, or an earlier "
        "attempt of this order was refused (submit it again)",
        422: "The quote or billing account can't be used (unknown, expired, another site, not "
        "headquartered in the US), or the `Idempotency-Key` was used with another request",
    }
)
"""The refusals of an order request, the same in v3 and the v4 long-running operation."""

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Makes the POST safe to retry; kept with the order",
    ),
]


@router.post(
    V3_PATH,
    status_code=201,
    summary="Submit an order request",
    responses={
        201: {"headers": {"Location": {"description": "The order request's status"}}},
        **ORDER_REFUSALS,
    },
)
async def create_order_request(
    body: OrderRequestBody,
    principal: PrincipalDep,
    pool: PoolDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Starts the order and answers with the request plus its `id`, as in seed 001.

    A quote that is unknown, expired, already used or for another site is refused here
    (4xx). The same `Idempotency-Key`, or the same `externalId`, returns the original
    order instead of placing a new one.
    """
    new, spec = await prepare_iod_order(
        pool, principal.customer_number, body, idempotency_key, "v3"
    )
    submission = await submit(pool, temporal, settings, new, spec)
    headers = {"Location": f"{V3_PATH}/{submission.row.id}"}
    if submission.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(submission.row.body, status_code=201, headers=headers)


# Polled by every client of every order: its parameters are resolved by hand, not by
# FastAPI's dependency machinery on each request (the document is the same).
@hand_resolved_get(
    router,
    f"{V3_PATH}/{{order_request_id}}",
    summary="Order request status",
    responses=problems({404: "No order request of yours with that id"}),
)
async def get_order_request(
    order_request_id: str,
    principal: PrincipalDep,
    request: Request,
) -> Response:
    """The order request with `state` (RUNNING, SUCCEEDED, FAILED), `orderId` and `serviceId`.

    While RUNNING, `Retry-After` says when to ask again. Answered from the order
    record the workflow keeps, so it works even while no worker is running.
    """
    app = Services.of(request)
    row = await find_order(app, principal.customer_number, order_request_id)
    if row is None:
        raise not_found(f"order request {order_request_id}", "id")
    # Answered as is: the body is the stored request plus a few fields, nothing to convert.
    return status_answer(
        row,
        "v3",
        lambda: v3_status(row),
        app.finished_orders,
        app.settings.status_retry_after_seconds,
    )

"""Submitting an order: validate, claim idempotently, start the workflow with its accept update.

Every channel (v3, the v4 long-running operation, the Service Activation API) goes
through :func:`submit`, so they share the same guarantees:

* **Idempotent.** The intake record is claimed by unique indexes on the customer's
  ``Idempotency-Key`` and ``externalId``; concurrent duplicates all get the one record.
* **Crash-safe.** The workflow id is derived from the record's id and started with
  update-with-start using ``USE_EXISTING``: a retry after a crash at any point attaches
  to the same workflow and the same ``accept`` update (deduplicated by its id).
* **Synchronous refusals.** The ``accept`` update checks and consumes the quote in the
  same call, so an unusable quote is a 4xx in the POST's own answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from api.problems import ErrorItem, Problem, field_error, service_unavailable
from config.settings import Settings
from domain.order_request import (
    CUSTOMER_SERVICE_NAME,
    IPV4_BLOCK_SIZE,
    OrderRequestBody,
    response_echo,
    rule_violations,
)
from domain.orders import (
    Channel,
    ErrorCode,
    OrderPolicy,
    OrderSpec,
    OrderWorkflowInput,
    new_order_request_id,
    order_workflow_id,
)
from store import orders, services
from store.billing import get_billing_account
from store.orders import NewOrderRequest, OrderRequestRow
from workflows import search_attributes as sa
from workflows.order import OrderWorkflow

ACCEPT_UPDATE_ID = "accept"

# Where each refusal points in the request, and its status.
_REFUSALS: dict[str, tuple[int, str]] = {
    ErrorCode.QUOTE_NOT_FOUND: (422, "quote[0].id"),
    ErrorCode.QUOTE_EXPIRED: (422, "quote[0].id"),
    ErrorCode.QUOTE_ALREADY_USED: (409, "quote[0].id"),
    ErrorCode.QUOTE_MISMATCH: (422, "quote[0].id"),
    ErrorCode.SERVICE_NOT_FOUND: (404, "productOrderItem[0].product.id"),
    ErrorCode.SERVICE_BUSY: (409, "productOrderItem[0].product.id"),
    ErrorCode.SERVICE_DISCONNECTED: (409, "productOrderItem[0].product.id"),
}


class Submission:
    """The result of :func:`submit`: the order record, and whether it is a replay."""

    def __init__(self, row: OrderRequestRow, replayed: bool) -> None:
        self.row = row
        self.replayed = replayed


def request_hash(body: dict[str, object]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def order_policy(settings: Settings) -> OrderPolicy:
    return OrderPolicy(
        step_timeout_seconds=settings.activity_timeout_seconds,
        step_max_attempts=settings.activity_max_attempts,
        retry_initial_interval_seconds=settings.retry_initial_interval_seconds,
        parked_timeout_seconds=settings.parked_order_timeout_seconds,
    )


async def submit(
    pool: asyncpg.Pool,
    temporal: Client,
    settings: Settings,
    new: NewOrderRequest,
    spec: OrderSpec,
    *,
    field_names: Sequence[str] = ("quote[0].id", "productOrderItem[0].product.id"),
) -> Submission:
    async with pool.acquire() as conn:
        row, created = await orders.claim(conn, new)
    if not created:
        if (
            new.idempotency_key
            and row.idempotency_key == new.idempotency_key
            and row.request_hash != new.request_hash
        ):
            raise Problem(
                422,
                "This Idempotency-Key was already used with a different request",
                errors=[
                    ErrorItem(
                        code="idempotency_key_reused",
                        message="send a new key for a new request",
                        field="Idempotency-Key",
                    )
                ],
            )
        if row.state != "PENDING":
            return Submission(row, replayed=True)
        # Not accepted yet: a concurrent duplicate, or an earlier attempt that died.
        # Attach to the same workflow and update; both are deduplicated by id.
        spec = spec.model_copy(update={"order_request_id": row.id})
    await _start_and_accept(pool, temporal, settings, spec, field_names)
    async with pool.acquire() as conn:
        accepted = await orders.get(conn, spec.order_request_id)
    assert accepted is not None and accepted.state != "PENDING"
    # Not a replay: no earlier request of this order was answered with it (an earlier
    # attempt that got a 503, or a concurrent duplicate, left it unaccepted).
    return Submission(accepted, replayed=False)


async def _start_and_accept(
    pool: asyncpg.Pool,
    temporal: Client,
    settings: Settings,
    spec: OrderSpec,
    field_names: Sequence[str],
) -> None:
    start = WithStartWorkflowOperation(
        OrderWorkflow.run,
        OrderWorkflowInput(spec=spec, policy=order_policy(settings)),
        id=order_workflow_id(spec.order_request_id),
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.CUSTOMER_NUMBER, spec.customer_number),
                SearchAttributePair(sa.EXTERNAL_ID, spec.external_id),
                SearchAttributePair(sa.ORDER_ACTION, spec.action),
                SearchAttributePair(sa.ORDER_STATE, "RECEIVED"),
                *([SearchAttributePair(sa.QUOTE_ID, spec.quote_id)] if spec.quote_id else []),
                *([SearchAttributePair(sa.SERVICE_ID, spec.service_id)] if spec.service_id else []),
            ]
        ),
        static_summary=_summary(spec),
        static_details=(
            f"Order request {spec.order_request_id} (externalId {spec.external_id}) of "
            f"customer {spec.customer_number}, submitted {spec.submitted_at.isoformat()} "
            f"through {spec.channel}."
        ),
    )
    try:
        async with asyncio.timeout(settings.intake_accept_timeout_seconds):
            await _accept(temporal, start)
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        # No worker took the update in time (the SDK reports our own timeout as an RPC
        # timeout). The workflow exists and accepts the order once a worker is back; the
        # client retries with the same Idempotency-Key / externalId and gets that order.
        raise service_unavailable("order processing", retry_after=10) from None
    except WorkflowUpdateFailedError as err:
        await _refused(pool, spec, err.cause, field_names)
    except WorkflowAlreadyStartedError:
        # The workflow already closed without accepting: the earlier attempt was refused.
        async with pool.acquire() as conn:
            row = await orders.get(conn, spec.order_request_id)
            if row is not None and row.state == "PENDING":
                await orders.forget_pending(conn, spec.order_request_id)
        raise Problem(
            409,
            "An earlier attempt of this order was refused; submit it again",
            errors=[ErrorItem(code="retry", message="submit the order again")],
        ) from None


async def _accept(temporal: Client, start: WithStartWorkflowOperation[Any, Any]) -> None:
    try:
        await temporal.execute_update_with_start_workflow(
            OrderWorkflow.accept, start_workflow_operation=start, id=ACCEPT_UPDATE_ID
        )
    finally:
        # A failed start (Temporal unreachable, our timeout) is also set on the operation's
        # own future, which nothing here awaits: mark it seen, or asyncio logs "Future
        # exception was never retrieved" with a traceback for every POST answered 503.
        started = start._workflow_handle
        if started.done() and not started.cancelled():
            started.exception()


async def _refused(
    pool: asyncpg.Pool, spec: OrderSpec, cause: BaseException | None, field_names: Sequence[str]
) -> None:
    async with pool.acquire() as conn:
        await orders.forget_pending(conn, spec.order_request_id)
    if isinstance(cause, ApplicationError) and cause.type in _REFUSALS:
        status, field = _REFUSALS[cause.type]
        quote_field, service_field = field_names
        field = quote_field if field.startswith("quote") else service_field
        raise Problem(
            status,
            cause.message,
            errors=[ErrorItem(code=cause.type, message=cause.message, field=field)],
        )
    raise service_unavailable("order processing")


def _summary(spec: OrderSpec) -> str:
    what = {"add": "New service", "modify": "Change of", "delete": "Disconnect of"}[spec.action]
    target = f" {spec.service_id}" if spec.service_id else ""
    name = f" '{spec.customer_service_name}'" if spec.customer_service_name else ""
    return f"{what}{target}{name} for {spec.customer_number} (externalId {spec.external_id})"


async def prepare_iod_order(
    pool: asyncpg.Pool,
    customer_number: str,
    body: OrderRequestBody,
    idempotency_key: str | None,
    channel: Channel,
) -> tuple[NewOrderRequest, OrderSpec]:
    """Check an Internet On-Demand order request and turn it into an intake record + spec."""
    violations = rule_violations(body)
    if violations:
        raise Problem(
            400,
            "The order request is invalid: " + ", ".join(sorted({v.field for v in violations})),
            errors=[ErrorItem(code=v.code, message=v.message, field=v.field) for v in violations],
        )
    item = body.item

    async with pool.acquire() as conn:
        account = await get_billing_account(conn, customer_number, body.billingAccount.id)
        if account is None:
            raise field_error(
                422,
                "billingAccount.id",
                "unknown_billing_account",
                f"billing account {body.billingAccount.id} is not one of yours",
            )
        if account.hq_country != "US":
            raise field_error(
                422,
                "billingAccount.id",
                "billing_account_not_us",
                "Internet On-Demand needs a billing account with hqCountry US; "
                f"{account.id} is headquartered in {account.hq_country}",
            )
        if item.action != "add":
            assert item.product.id is not None
            service = await services.get_for_customer(conn, customer_number, item.product.id)
            if service is None:
                raise field_error(
                    404,
                    "productOrderItem[0].product.id",
                    "service_not_found",
                    f"service {item.product.id} was not found",
                )
    order_request_id = new_order_request_id()
    echo = response_echo(order_request_id, body)
    quote_id = body.quote[0].id if body.quote else None
    new = NewOrderRequest(
        id=order_request_id,
        customer_number=customer_number,
        external_id=body.externalId,
        idempotency_key=idempotency_key,
        action=item.action,
        channel=channel,
        body=echo,
        request_hash=request_hash({k: v for k, v in echo.items() if k != "id"}),
        quote_id=quote_id,
        target_service_id=item.product.id if item.action != "add" else None,
    )
    spec = OrderSpec(
        order_request_id=order_request_id,
        customer_number=customer_number,
        external_id=body.externalId,
        action=item.action,
        channel=channel,
        quote_id=quote_id if item.action != "delete" else None,
        service_id=new.target_service_id,
        billing_account_id=account.id,
        billing_account_name=body.billingAccount.name,
        customer_service_name=body.characteristic(CUSTOMER_SERVICE_NAME),
        ipv4_block_size=body.characteristic(IPV4_BLOCK_SIZE),
        submitted_at=datetime.now(UTC),
    )
    return new, spec

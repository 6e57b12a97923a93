"""Models of an order's life: what the workflow is started with and what its steps return.

Pure pydantic, imported into the workflow sandbox as pass-through.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel

Action = Literal["add", "modify", "delete"]
Channel = Literal["v3", "v4", "sa"]


class OrderState(StrEnum):
    """The order's state as the status endpoints report it (PENDING is never shown)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def terminal(self) -> bool:
        return self in (OrderState.SUCCEEDED, OrderState.FAILED, OrderState.CANCELLED)


class OperatorState(StrEnum):
    """What operators filter on in the Temporal UI (search attribute ``OrderState``)."""

    RECEIVED = "RECEIVED"
    RUNNING = "RUNNING"
    PARKED = "PARKED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    REFUSED = "REFUSED"


class ErrorCode(StrEnum):
    QUOTE_NOT_FOUND = "QUOTE_NOT_FOUND"
    QUOTE_EXPIRED = "QUOTE_EXPIRED"
    QUOTE_ALREADY_USED = "QUOTE_ALREADY_USED"
    QUOTE_MISMATCH = "QUOTE_MISMATCH"
    SERVICE_NOT_FOUND = "SERVICE_NOT_FOUND"
    SERVICE_BUSY = "SERVICE_BUSY"
    SERVICE_DISCONNECTED = "SERVICE_DISCONNECTED"
    ORDER_REJECTED = "ORDER_REJECTED"
    PROVISIONING_FAILED = "PROVISIONING_FAILED"
    RESOURCES_EXHAUSTED = "RESOURCES_EXHAUSTED"
    STEP_FAILED = "STEP_FAILED"
    ORDER_CANCELLED = "ORDER_CANCELLED"


# Refusals: the order is turned down at intake, synchronously, and nothing is kept.
REFUSAL_CODES = frozenset(
    {
        ErrorCode.QUOTE_NOT_FOUND,
        ErrorCode.QUOTE_EXPIRED,
        ErrorCode.QUOTE_ALREADY_USED,
        ErrorCode.QUOTE_MISMATCH,
        ErrorCode.SERVICE_NOT_FOUND,
        ErrorCode.SERVICE_BUSY,
        ErrorCode.SERVICE_DISCONNECTED,
    }
)


class OrderPolicy(BaseModel):
    """Timeouts and retries, fixed per order at intake (so replays see the same values)."""

    step_timeout_seconds: float = 30.0
    step_max_attempts: int = 5
    retry_initial_interval_seconds: float = 1.0
    parked_timeout_seconds: float = 72 * 3600.0


class SaIdentity(BaseModel):
    """How the order shows in the Service Activation feed (``accessId``, ``service``)."""

    access_id: str
    service: str
    speed: str


class OrderSpec(BaseModel):
    """Everything about an order that is fixed when it is submitted."""

    order_request_id: str
    customer_number: str
    external_id: str
    action: Action
    channel: Channel
    quote_id: str | None = None
    service_id: str | None = None
    billing_account_id: str
    billing_account_name: str
    customer_service_name: str | None = None
    ipv4_block_size: str | None = None
    submitted_at: datetime
    sa: SaIdentity | None = None

    @property
    def workflow_id(self) -> str:
        return order_workflow_id(self.order_request_id)


class OrderWorkflowInput(BaseModel):
    spec: OrderSpec
    policy: OrderPolicy


class AcceptOrderInput(BaseModel):
    spec: OrderSpec
    announce: bool = False
    """Also append ORDER_IN_PROGRESS in the same transaction (orders since the
    ``local-bookkeeping`` patch; older ones append it in a step of its own)."""


class AcceptedOrder(BaseModel):
    master_site_id: str
    speed: str
    previous_speed: str | None = None
    customer_service_name: str
    ipv4_block_size: str


class BackendStepInput(BaseModel):
    """Input of every step that talks to the provisioning backend."""

    spec: OrderSpec
    accepted: AcceptedOrder
    support_retries: int = 0


class CreatedOrder(BaseModel):
    order_number: str


class FulfilledOrder(BaseModel):
    """What the provider's systems gave the order: its orderId, then the service's id."""

    order_number: str
    service_id: str


CREATING_ORDER = "creating order"
NETWORK_STEPS: dict[str, str] = {
    "add": "provisioning service",
    "modify": "changing bandwidth",
    "delete": "disconnecting service",
}


def backend_steps(action: str) -> str:
    """What an order's backend step does, for operators: both calls, in order."""
    return f"{CREATING_ORDER}, then {NETWORK_STEPS[action]}"


class AllocateResourcesInput(BaseModel):
    spec: OrderSpec
    accepted: AcceptedOrder


class Allocation(BaseModel):
    vlan_id: int
    ipv4_block: str


class ProvisionServiceInput(BackendStepInput):
    allocation: Allocation


class ProvisionedService(BaseModel):
    service_id: str


class RecordServiceInput(BaseModel):
    spec: OrderSpec
    accepted: AcceptedOrder
    service_id: str


class MarkStepInput(BaseModel):
    order_request_id: str
    step: str
    message: str = ""


class ParkOrderInput(BaseModel):
    order_request_id: str
    action: str
    message: str


class ParkedOrder(BaseModel):
    """Which backend call a parked order waits at, and its orderId once it has one."""

    step: str
    order_number: str | None = None


class FinishOrderInput(BaseModel):
    spec: OrderSpec
    state: OrderState
    error_code: str | None = None
    error_message: str | None = None


class CompensateInput(BaseModel):
    spec: OrderSpec


class CompleteOrderInput(BaseModel):
    """Record the service, finish the order SUCCEEDED and append DONE_SUCCESS, at once."""

    spec: OrderSpec
    accepted: AcceptedOrder
    order_number: str | None
    service_id: str


class CloseOrderInput(BaseModel):
    """Release what the order holds, finish it, and append DONE_FAILED, at once."""

    spec: OrderSpec
    accepted: AcceptedOrder
    state: OrderState
    error_code: str
    error_message: str
    order_number: str | None = None
    service_id: str | None = None


class OrderOutcome(BaseModel):
    order_request_id: str
    state: OperatorState
    order_number: str | None = None
    service_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


class RetryOrderInput(BaseModel):
    reason: str = "retried by support"


class RetryOrderResult(BaseModel):
    resumed_step: str
    support_retries: int


class OrderProgress(BaseModel):
    state: OperatorState
    step: str
    parked_step: str | None = None
    parked_reason: str | None = None
    support_retries: int = 0
    order_number: str | None = None
    service_id: str | None = None


def order_workflow_id(order_request_id: str) -> str:
    return f"order-{order_request_id}"


def new_order_request_id() -> str:
    """A time-based (version 1) UUID as in the seed, with a random node, not a MAC address."""
    return str(uuid.uuid1(node=secrets.randbits(48) | 0x010000000000))

"""The order workflow's steps. Each is idempotent: a retry, or a second worker after a
crash, finds what the first attempt did and returns the same result."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.events import AppendedEvent, EventLog
from domain.order_events import order_event
from domain.orders import (
    CREATING_ORDER,
    NETWORK_STEPS,
    AcceptedOrder,
    AcceptOrderInput,
    AllocateResourcesInput,
    Allocation,
    BackendStepInput,
    CloseOrderInput,
    CompensateInput,
    CompleteOrderInput,
    CreatedOrder,
    ErrorCode,
    FinishOrderInput,
    FulfilledOrder,
    MarkStepInput,
    OrderSpec,
    OrderState,
    ParkedOrder,
    ParkOrderInput,
    ProvisionedService,
    RecordServiceInput,
)
from provisioning.backend import (
    BackendRejected,
    BackendRequest,
    BackendUnavailable,
    ProvisioningBackend,
)
from store import orders, quote_use, resources, services
from store.conn import Conn

T = TypeVar("T")


def refuse(code: ErrorCode, message: str) -> ApplicationError:
    return ApplicationError(message, type=code.value, non_retryable=True)


class OrderActivities:
    def __init__(
        self, pool: asyncpg.Pool, backend: ProvisioningBackend, event_log: EventLog
    ) -> None:
        self._pool = pool
        self._backend = backend
        self._events = event_log

    @activity.defn(name="accept_order")
    async def accept_order(self, input: AcceptOrderInput) -> AcceptedOrder:
        """Check and consume the quote, reserve the service to change, mark the order RUNNING
        (and, when asked, append ORDER_IN_PROGRESS in the same transaction)."""
        spec = input.spec
        appended: AppendedEvent | None = None
        async with self._pool.acquire() as conn, conn.transaction():
            service = None
            if spec.service_id is not None:
                service = await services.lock_for_change(
                    conn, spec.customer_number, spec.service_id
                )
                _check_service(spec, service)
            accepted: AcceptedOrder
            if spec.quote_id is not None:
                quote = await quote_use.lock(conn, spec.quote_id)
                _check_quote(spec, quote, service)
                assert quote is not None
                if quote.consumed_by is None:
                    await quote_use.consume(conn, quote.id, spec.order_request_id)
                accepted = AcceptedOrder(
                    master_site_id=quote.master_site_id,
                    speed=quote.speed,
                    previous_speed=service.speed if service else None,
                    customer_service_name=(
                        service.customer_service_name if service else spec.customer_service_name
                    )
                    or "",
                    ipv4_block_size=(service.ipv4_block_size if service else spec.ipv4_block_size)
                    or "/29",
                )
            elif spec.sa is not None and spec.action == "add":
                accepted = await _accept_activation(conn, spec)
            else:
                assert service is not None  # delete: no quote, an existing service
                accepted = AcceptedOrder(
                    master_site_id=service.master_site_id,
                    speed=service.speed,
                    previous_speed=service.speed,
                    customer_service_name=service.customer_service_name,
                    ipv4_block_size=service.ipv4_block_size,
                )
            if service is not None and service.pending_order_id != spec.order_request_id:
                status = "Disconnect Pending" if spec.action == "delete" else "Change Pending"
                await services.mark_pending(conn, service.service_id, spec.order_request_id, status)
            await orders.mark_running(conn, spec.order_request_id)
            if input.announce:
                event = order_event(spec, accepted, "ORDER_IN_PROGRESS", "IN_PROGRESS")
                appended = await self._events.append(conn, event)
        if appended is not None:
            await self._events.wake(appended)
        return accepted

    @activity.defn(name="create_order")
    async def create_order(self, input: BackendStepInput) -> CreatedOrder:
        number = await self._call_backend(self._backend.create_order(_request(input)))
        async with self._pool.acquire() as conn:
            await orders.set_order_number(conn, input.spec.order_request_id, number)
        return CreatedOrder(order_number=number)

    @activity.defn(name="fulfil_order")
    async def fulfil_order(self, input: BackendStepInput) -> FulfilledOrder:
        """Both backend calls, in order: place the order (its orderId), then the network
        change (the service's id). Each is idempotent, so an attempt after a failure finds
        the order placed and carries on with the network change; the order's row records
        how far it got (see ``park_order``)."""
        created = await self.create_order(input)
        action = input.spec.action
        if action == "add":
            changed = await self.provision_service(input)
        elif action == "modify":
            changed = await self.change_bandwidth(input)
        else:
            changed = await self.disconnect_service(input)
        return FulfilledOrder(order_number=created.order_number, service_id=changed.service_id)

    @activity.defn(name="park_order")
    async def park_order(self, input: ParkOrderInput) -> ParkedOrder:
        """Tell the customer about the delay, and name the backend call the order waits at:
        the network change once the order has its orderId, else placing the order."""
        async with self._pool.acquire() as conn:
            number = await orders.order_number(conn, input.order_request_id)
            step = NETWORK_STEPS[input.action] if number is not None else CREATING_ORDER
            await orders.set_step(conn, input.order_request_id, step, input.message)
        return ParkedOrder(step=step, order_number=number)

    @activity.defn(name="allocate_resources")
    async def allocate_resources(self, input: AllocateResourcesInput) -> Allocation:
        return await self._allocate(input.spec, input.accepted)

    @activity.defn(name="provision_service")
    async def provision_service(self, input: BackendStepInput) -> ProvisionedService:
        """Provision with the order's VLAN and IPv4 block (allocated here, or found when
        an earlier step or attempt allocated them)."""
        allocation = await self._allocate(input.spec, input.accepted)
        service_id = await self._call_backend(
            self._backend.provision(_request(input), allocation.vlan_id, allocation.ipv4_block)
        )
        return ProvisionedService(service_id=service_id)

    async def _allocate(self, spec: OrderSpec, accepted: AcceptedOrder) -> Allocation:
        prefix = int(accepted.ipv4_block_size.lstrip("/"))
        async with self._pool.acquire() as conn, conn.transaction():
            try:
                allocation = await resources.allocate(
                    conn, spec.order_request_id, accepted.master_site_id, prefix
                )
            except resources.PoolExhausted as exc:
                raise refuse(ErrorCode.RESOURCES_EXHAUSTED, str(exc)) from None
            await orders.set_step(
                conn,
                spec.order_request_id,
                "resources allocated",
                f"VLAN {allocation.vlan_id}, IPv4 {allocation.ipv4_block}",
            )
        return allocation

    @activity.defn(name="change_bandwidth")
    async def change_bandwidth(self, input: BackendStepInput) -> ProvisionedService:
        assert input.spec.service_id is not None
        await self._call_backend(
            self._backend.change_bandwidth(_request(input), input.spec.service_id)
        )
        return ProvisionedService(service_id=input.spec.service_id)

    @activity.defn(name="disconnect_service")
    async def disconnect_service(self, input: BackendStepInput) -> ProvisionedService:
        assert input.spec.service_id is not None
        await self._call_backend(self._backend.disconnect(_request(input), input.spec.service_id))
        return ProvisionedService(service_id=input.spec.service_id)

    @activity.defn(name="record_service")
    async def record_service(self, input: RecordServiceInput) -> None:
        """Put the result in inventory and on the order, in one transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _put_in_inventory(conn, input.spec, input.accepted, input.service_id)
            await orders.set_service_id(conn, input.spec.order_request_id, input.service_id)
            await orders.set_step(
                conn, input.spec.order_request_id, "service recorded in inventory"
            )

    @activity.defn(name="complete_order")
    async def complete_order(self, input: CompleteOrderInput) -> None:
        """Record the service, finish the order SUCCEEDED and append DONE_SUCCESS: one
        transaction, so the status, the inventory and the feed agree at every moment."""
        spec = input.spec
        async with self._pool.acquire() as conn, conn.transaction():
            await _put_in_inventory(conn, spec, input.accepted, input.service_id)
            await orders.finish(
                conn, spec.order_request_id, OrderState.SUCCEEDED, None, None, input.service_id
            )
            event = order_event(
                spec,
                input.accepted,
                "DONE_SUCCESS",
                "DONE_SUCCESS",
                order_number=input.order_number,
                service_id=input.service_id,
            )
            appended = await self._events.append(conn, event)
        await self._events.wake(appended)

    @activity.defn(name="close_order")
    async def close_order(self, input: CloseOrderInput) -> None:
        """Release what a failed or cancelled order held, finish it and append DONE_FAILED,
        in one transaction."""
        spec = input.spec
        async with self._pool.acquire() as conn, conn.transaction():
            await _compensate(conn, spec)
            await orders.finish(
                conn, spec.order_request_id, input.state, input.error_code, input.error_message
            )
            # An order failed in its backend step may have its orderId without the
            # workflow knowing it (``fulfil_order`` failed after placing the order).
            number = input.order_number or await orders.order_number(conn, spec.order_request_id)
            event = order_event(
                spec,
                input.accepted,
                "DONE_FAILED",
                "DONE_FAILED",
                input.error_message,
                order_number=number,
                service_id=input.service_id,
                error_code=input.error_code,
            )
            appended = await self._events.append(conn, event)
        await self._events.wake(appended)

    @activity.defn(name="compensate_order")
    async def compensate_order(self, input: CompensateInput) -> None:
        """Undo what a failed or cancelled order held: resources, a pending change."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _compensate(conn, input.spec)

    @activity.defn(name="mark_step")
    async def mark_step(self, input: MarkStepInput) -> None:
        async with self._pool.acquire() as conn:
            await orders.set_step(conn, input.order_request_id, input.step, input.message)

    @activity.defn(name="finish_order")
    async def finish_order(self, input: FinishOrderInput) -> None:
        async with self._pool.acquire() as conn:
            await orders.finish(
                conn,
                input.spec.order_request_id,
                input.state,
                input.error_code,
                input.error_message,
            )

    async def _call_backend(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except BackendRejected as exc:
            raise ApplicationError(exc.message, type=exc.code, non_retryable=True) from None
        except BackendUnavailable as exc:
            raise ApplicationError(str(exc), type="BACKEND_UNAVAILABLE") from None


def _request(input: BackendStepInput) -> BackendRequest:
    return BackendRequest(
        order_request_id=input.spec.order_request_id,
        customer_number=input.spec.customer_number,
        customer_service_name=input.accepted.customer_service_name,
        master_site_id=input.accepted.master_site_id,
        speed=input.accepted.speed,
        support_retries=input.support_retries,
    )


async def _put_in_inventory(
    conn: Conn, spec: OrderSpec, accepted: AcceptedOrder, service_id: str
) -> None:
    """The service the order made, changed or disconnected, in the inventory."""
    if spec.action == "add":
        await services.insert_active(
            conn,
            service_id=service_id,
            customer_number=spec.customer_number,
            billing_account_id=spec.billing_account_id,
            billing_account_name=spec.billing_account_name,
            master_site_id=accepted.master_site_id,
            speed=accepted.speed,
            customer_service_name=accepted.customer_service_name,
            ipv4_block_size=accepted.ipv4_block_size,
            order_request_id=spec.order_request_id,
        )
        await resources.attach_to_service(conn, spec.order_request_id, service_id)
    elif spec.action == "modify":
        await services.complete_change(conn, service_id, spec.order_request_id, accepted.speed)
    else:
        await services.complete_disconnect(conn, service_id, spec.order_request_id)
        await resources.release_for_service(conn, service_id)


async def _compensate(conn: Conn, spec: OrderSpec) -> None:
    if spec.action == "add":
        await resources.release_for_order(conn, spec.order_request_id)
    else:
        await services.abandon_change(conn, spec.order_request_id)


async def _accept_activation(conn: Conn, spec: OrderSpec) -> AcceptedOrder:
    """A Service Activation ACTIVATE: one live service per access, serialised per access."""
    assert spec.sa is not None
    access = spec.sa.access_id
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))", f"{spec.customer_number}/{access}"
    )
    live = await services.live_at_site(conn, spec.customer_number, access)
    busy = await orders.other_open_order_for_access(
        conn, spec.customer_number, access, spec.order_request_id
    )
    if busy or (live is not None and live.created_by_order != spec.order_request_id):
        raise refuse(ErrorCode.SERVICE_BUSY, f"access {access} already has a service")
    return AcceptedOrder(
        master_site_id=access,
        speed=spec.sa.speed,
        customer_service_name=spec.customer_service_name or access,
        ipv4_block_size="/30",
    )


def _check_service(spec: OrderSpec, service: services.ServiceRow | None) -> None:
    if service is None:
        raise refuse(ErrorCode.SERVICE_NOT_FOUND, f"service {spec.service_id} was not found")
    if service.pending_order_id == spec.order_request_id:
        return  # this order already reserved it (a retried attempt)
    if service.status == "Disconnected":
        raise refuse(
            ErrorCode.SERVICE_DISCONNECTED, f"service {spec.service_id} is already disconnected"
        )
    if service.status != "Active" or service.pending_order_id is not None:
        raise refuse(
            ErrorCode.SERVICE_BUSY, f"service {spec.service_id} has another change in progress"
        )


def _check_quote(
    spec: OrderSpec, quote: quote_use.LockedQuote | None, service: services.ServiceRow | None
) -> None:
    # Another customer's quote is reported exactly like an unknown one: no existence leak.
    if quote is None or quote.customer_number != spec.customer_number:
        raise refuse(ErrorCode.QUOTE_NOT_FOUND, f"quote {spec.quote_id} was not found")
    if quote.consumed_by == spec.order_request_id:
        return
    if quote.consumed_by is not None:
        raise refuse(
            ErrorCode.QUOTE_ALREADY_USED, f"quote {spec.quote_id} was already used by another order"
        )
    if quote.expires_at <= spec.submitted_at:
        raise refuse(
            ErrorCode.QUOTE_EXPIRED,
            f"quote {spec.quote_id} expired at {quote.expires_at.isoformat()}; request a new price",
        )
    if service is not None and quote.master_site_id != service.master_site_id:
        raise refuse(
            ErrorCode.QUOTE_MISMATCH,
            f"quote {spec.quote_id} is for site {quote.master_site_id}, "
            f"but service {service.service_id} is at {service.master_site_id}",
        )
    if service is not None and quote.speed == service.speed:
        raise refuse(
            ErrorCode.QUOTE_MISMATCH,
            f"quote {spec.quote_id} is for {quote.speed}, the service's current speed",
        )

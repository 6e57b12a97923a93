"""One workflow per order request: accept, order, allocate, provision, record, notify.

Started with update-with-start: the ``accept`` update checks and consumes the quote
synchronously, so the API can refuse a bad quote in the POST's own answer. After that
the steps run as activities with explicit timeouts and retries. A business failure
ends the order FAILED (resources released); a step that keeps failing for transient
reasons parks the order until support retries it (``retry`` update) or cancels it, or
until the parking time runs out (then FAILED).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    FailureError,
    is_cancelled_exception,
)
from temporalio.exceptions import TimeoutError as TemporalTimeoutError

with workflow.unsafe.imports_passed_through():
    from activities.orders import OrderActivities
    from domain.order_events import order_event
    from domain.orders import (
        NETWORK_STEPS,
        REFUSAL_CODES,
        AcceptedOrder,
        AcceptOrderInput,
        AllocateResourcesInput,
        Allocation,
        BackendStepInput,
        CloseOrderInput,
        CompensateInput,
        CompleteOrderInput,
        ErrorCode,
        FinishOrderInput,
        FulfilledOrder,
        MarkStepInput,
        OperatorState,
        OrderOutcome,
        OrderProgress,
        OrderState,
        OrderWorkflowInput,
        ParkedOrder,
        ParkOrderInput,
        ProvisionServiceInput,
        RecordServiceInput,
        RetryOrderInput,
        RetryOrderResult,
        backend_steps,
    )
    from workflows import search_attributes as sa

T = TypeVar("T")

ACCEPT_TIMEOUT = timedelta(seconds=30)
ACCEPT_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=5)
# Bookkeeping in our own database must eventually succeed: retry without limit.
BOOKKEEPING_TIMEOUT = timedelta(seconds=30)
BOOKKEEPING_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)
# An order that was never accepted (the intake died before the update) is dropped.
ACCEPT_WAIT = timedelta(hours=1)
STEP_MAX_RETRY_INTERVAL = timedelta(minutes=5)

LOCAL_BOOKKEEPING = "local-bookkeeping"
"""Patch: the steps that only touch our own database run as local activities, and the
order's bookkeeping takes fewer transactions.

Since it, accepting also appends ORDER_IN_PROGRESS (one transaction), allocating runs
locally, and recording the service, finishing the order and appending DONE_SUCCESS (or
compensating, finishing and appending DONE_FAILED) are one local step and one
transaction; only the provisioning backend's calls stay regular activities (visible as
pending activities, with their own timeouts and retries). A local step runs inside the
workflow task, with no round trip through the Temporal server.

Orders started before the patch (histories in ``tests/histories/v1``) keep running every
step as a regular activity. Drop the old branch (``workflow.deprecate_patch`` first) once
no such order can still run: they end at most ``OrderPolicy.parked_timeout_seconds``
after their last step.
"""


ONE_BACKEND_STEP = "one-backend-step"
"""Patch (on top of ``LOCAL_BOOKKEEPING``): the order's two backend calls, placing the order
(its orderId) and the network change (the service's id), run in one activity,
``fulfil_order``: one retry policy, and an attempt may take the step timeout once per call.

Both calls were an activity each: one more round trip through the Temporal server per
order (an activity task and a workflow task), about an eighth of an order's cost
(benchmarks/README.md). Both calls are idempotent, so an attempt after a failure finds the
order placed and carries on with the network change. When the attempts are used up, the
order parks at the call that failed: ``park_order`` tells it from the order's row (an
orderId is recorded as soon as the order is placed). Operators see one pending activity;
its last failure names the call.

Orders started before it (histories in ``tests/histories/v2``) run the two calls as two
activities.
"""


class OrderFailure(Exception):
    """Ends the order FAILED with a code and a message for the customer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@workflow.defn(name="OrderWorkflow")
class OrderWorkflow:
    @workflow.init
    def __init__(self, input: OrderWorkflowInput) -> None:
        self._input = input
        self._accepted: AcceptedOrder | None = None
        self._refusal: ApplicationError | None = None
        self._state = OperatorState.RECEIVED
        self._step = "received"
        self._parked_step: str | None = None
        self._parked_reason: str | None = None
        self._retry_requested = False
        self._support_retries = 0
        self._order_number: str | None = None
        self._service_id: str | None = None
        self._live = False  # the network change was made: cancelling is too late
        self._cancel_requested = False
        self._local_steps = False  # decided in the first activation: see LOCAL_BOOKKEEPING
        self._one_backend_step = False  # likewise: see ONE_BACKEND_STEP

    @workflow.run
    async def run(self, input: OrderWorkflowInput) -> OrderOutcome:
        self._decide_patches()
        try:
            await workflow.wait_condition(
                lambda: self._accepted is not None or self._refusal is not None,
                timeout=ACCEPT_WAIT,
            )
        except TimeoutError:
            return self._outcome(OperatorState.REFUSED, "NOT_ACCEPTED", "never accepted")
        if self._accepted is None:
            assert self._refusal is not None
            self._set_state(OperatorState.REFUSED)
            return self._outcome(OperatorState.REFUSED, self._refusal.type, self._refusal.message)

        accepted = self._accepted
        self._set_state(OperatorState.RUNNING)
        if not self._local_steps:  # since the patch, accepting appends it
            await self._event("ORDER_IN_PROGRESS", "IN_PROGRESS", "")
        try:
            service_id = await self._fulfil(accepted)
        except OrderFailure as failure:
            return await self._fail(failure.code, failure.message)
        except (asyncio.CancelledError, ActivityError) as err:
            if not is_cancelled_exception(err):
                raise
            if not self._live:
                return await self._cancel()
            # Too late to cancel: the service exists; finish recording it.
            service_id = await self._finish_recording(accepted)
        return await self._succeed(accepted, service_id)

    async def _fulfil(self, accepted: AcceptedOrder) -> str:
        spec = self._input.spec
        if self._one_backend_step:
            fulfilled: FulfilledOrder = await self._step_with_support(
                backend_steps(spec.action),
                lambda: workflow.execute_activity_method(
                    OrderActivities.fulfil_order,
                    self._backend_input(accepted),
                    start_to_close_timeout=self._step_timeout(calls=2),
                    retry_policy=self._step_retry(),
                ),
                backend_calls=True,
            )
            self._order_number = fulfilled.order_number
            self._live = True
            self._service_id = fulfilled.service_id
            return await self._finish_recording(accepted)
        created = await self._step_with_support(
            "creating order",
            lambda: workflow.execute_activity_method(
                OrderActivities.create_order,
                self._backend_input(accepted),
                start_to_close_timeout=self._step_timeout(),
                retry_policy=self._step_retry(),
            ),
        )
        self._order_number = created.order_number
        if spec.action == "add":
            allocation: Allocation | None = None
            if not self._local_steps:  # since the patch, provisioning allocates
                allocation = await self._step_with_support(
                    "allocating resources",
                    lambda: self._execute(
                        OrderActivities.allocate_resources,
                        AllocateResourcesInput(spec=spec, accepted=accepted),
                        start_to_close=self._step_timeout(),
                        retry=self._step_retry(),
                    ),
                )
            provisioned = await self._step_with_support(
                NETWORK_STEPS["add"],
                lambda: workflow.execute_activity_method(
                    OrderActivities.provision_service,
                    self._backend_input(accepted, allocation),
                    start_to_close_timeout=self._step_timeout(),
                    retry_policy=self._step_retry(),
                ),
            )
        else:
            method = (
                OrderActivities.change_bandwidth
                if spec.action == "modify"
                else OrderActivities.disconnect_service
            )
            provisioned = await self._step_with_support(
                NETWORK_STEPS[spec.action],
                lambda: workflow.execute_activity_method(
                    method,
                    self._backend_input(accepted),
                    start_to_close_timeout=self._step_timeout(),
                    retry_policy=self._step_retry(),
                ),
            )
        self._live = True
        self._service_id = provisioned.service_id
        if not self._local_steps:  # since the patch, set with the final state
            workflow.upsert_search_attributes([sa.SERVICE_ID.value_set(provisioned.service_id)])
        return await self._finish_recording(accepted)

    def _backend_input(
        self, accepted: AcceptedOrder, allocation: Allocation | None = None
    ) -> BackendStepInput:
        """A backend step's input, with the support retries so far (the sandbox's
        FLAKY-n triggers count them)."""
        spec, retries = self._input.spec, self._support_retries
        if allocation is not None:
            return ProvisionServiceInput(
                spec=spec, accepted=accepted, allocation=allocation, support_retries=retries
            )
        return BackendStepInput(spec=spec, accepted=accepted, support_retries=retries)

    async def _finish_recording(self, accepted: AcceptedOrder) -> str:
        assert self._service_id is not None
        self._step = "recording service"
        if self._local_steps:
            return self._service_id  # recorded when the order completes, in one transaction
        await self._execute(
            OrderActivities.record_service,
            RecordServiceInput(
                spec=self._input.spec, accepted=accepted, service_id=self._service_id
            ),
            start_to_close=BOOKKEEPING_TIMEOUT,
            retry=BOOKKEEPING_RETRY,
        )
        return self._service_id

    async def _step_with_support(
        self, step: str, call: Callable[[], Awaitable[T]], *, backend_calls: bool = False
    ) -> T:
        """Run one step; when its retries are used up, park until support retries it.

        ``backend_calls``: the step is ``fulfil_order``, which parks at the call that failed.
        """
        while True:
            if self._cancel_requested:
                raise asyncio.CancelledError("cancelled while bookkeeping")
            self._step = step
            workflow.set_current_details(self._details())
            try:
                return await call()
            except ActivityError as err:
                if is_cancelled_exception(err):
                    raise
                cause = err.cause
                if isinstance(cause, ApplicationError) and cause.non_retryable:
                    raise OrderFailure(cause.type or ErrorCode.STEP_FAILED, cause.message) from None
                await self._park(step, _describe(err), backend_calls)

    async def _park(self, step: str, reason: str, backend_calls: bool = False) -> None:
        spec = self._input.spec
        message = f"delayed, our team is on it: {reason}"
        self._parked_step, self._parked_reason = step, reason
        self._set_state(OperatorState.PARKED)
        if backend_calls:
            parked: ParkedOrder = await self._bookkeeping(
                OrderActivities.park_order,
                ParkOrderInput(
                    order_request_id=spec.order_request_id, action=spec.action, message=message
                ),
            )
            self._parked_step = parked.step
            self._order_number = parked.order_number or self._order_number
            workflow.set_current_details(self._details())
        else:
            await self._bookkeeping(
                OrderActivities.mark_step,
                MarkStepInput(order_request_id=spec.order_request_id, step=step, message=message),
            )
        try:
            await workflow.wait_condition(
                lambda: self._retry_requested or self._cancel_requested,
                timeout=timedelta(seconds=self._input.policy.parked_timeout_seconds),
            )
        except TimeoutError:
            raise OrderFailure(ErrorCode.STEP_FAILED, f"{step} failed: {reason}") from None
        if self._cancel_requested:
            raise asyncio.CancelledError("cancelled while parked")
        self._retry_requested = False
        self._parked_step = self._parked_reason = None
        self._set_state(OperatorState.RUNNING)

    @workflow.update  # named "accept", as the intake calls it
    async def accept(self) -> AcceptedOrder:
        """Check and consume the quote; raises (refusing the order) when it can't be used."""
        self._decide_patches()
        if self._accepted is not None:
            return self._accepted
        try:
            self._accepted = await self._execute(
                OrderActivities.accept_order,
                AcceptOrderInput(spec=self._input.spec, announce=self._local_steps),
                start_to_close=ACCEPT_TIMEOUT,
                retry=ACCEPT_RETRY,
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type in REFUSAL_CODES:
                self._refusal = ApplicationError(cause.message, type=cause.type, non_retryable=True)
            else:
                self._refusal = ApplicationError(
                    "the order could not be accepted; try again",
                    type="ACCEPT_FAILED",
                    non_retryable=True,
                )
            raise self._refusal from None
        return self._accepted

    @workflow.update  # named "retry"
    async def retry(self, input: RetryOrderInput) -> RetryOrderResult:
        """Support: re-run the parked step (the order is not started again)."""
        assert self._parked_step is not None
        step = self._parked_step
        self._support_retries += 1
        self._retry_requested = True
        workflow.logger.info("support retry of %s: %s", step, input.reason)
        return RetryOrderResult(resumed_step=step, support_retries=self._support_retries)

    @retry.validator
    def _retry_only_when_parked(self, input: RetryOrderInput) -> None:
        if self._parked_step is None:
            raise ApplicationError(
                f"the order is not waiting for support (state {self._state.value}, "
                f"step {self._step})",
                type="NOT_PARKED",
            )

    @workflow.query
    def progress(self) -> OrderProgress:
        return OrderProgress(
            state=self._state,
            step=self._step,
            parked_step=self._parked_step,
            parked_reason=self._parked_reason,
            support_retries=self._support_retries,
            order_number=self._order_number,
            service_id=self._service_id,
        )

    async def _succeed(self, accepted: AcceptedOrder, service_id: str) -> OrderOutcome:
        if self._local_steps:
            await self._bookkeeping(
                OrderActivities.complete_order,
                CompleteOrderInput(
                    spec=self._input.spec,
                    accepted=accepted,
                    order_number=self._order_number,
                    service_id=service_id,
                ),
            )
        else:
            await self._bookkeeping(
                OrderActivities.finish_order,
                FinishOrderInput(spec=self._input.spec, state=OrderState.SUCCEEDED),
            )
            await self._event("DONE_SUCCESS", "DONE_SUCCESS", "")
        self._set_state(OperatorState.SUCCEEDED)
        return self._outcome(OperatorState.SUCCEEDED)

    async def _fail(self, code: str, message: str) -> OrderOutcome:
        return await self._close_unsuccessfully(OrderState.FAILED, code, message)

    async def _cancel(self) -> OrderOutcome:
        return await self._close_unsuccessfully(
            OrderState.CANCELLED, ErrorCode.ORDER_CANCELLED, "the order was cancelled"
        )

    async def _close_unsuccessfully(
        self, state: OrderState, code: str, message: str
    ) -> OrderOutcome:
        """Release what the order holds, record the outcome, and tell the feed DONE_FAILED."""
        spec = self._input.spec
        if self._local_steps:
            assert self._accepted is not None
            await self._bookkeeping(
                OrderActivities.close_order,
                CloseOrderInput(
                    spec=spec,
                    accepted=self._accepted,
                    state=state,
                    error_code=code,
                    error_message=message,
                    order_number=self._order_number,
                    service_id=self._service_id,
                ),
            )
        else:
            await self._bookkeeping(OrderActivities.compensate_order, CompensateInput(spec=spec))
            await self._bookkeeping(
                OrderActivities.finish_order,
                FinishOrderInput(spec=spec, state=state, error_code=code, error_message=message),
            )
            await self._event("DONE_FAILED", "DONE_FAILED", message, error_code=code)
        operator_state = OperatorState(state.value)
        self._set_state(operator_state)
        return self._outcome(operator_state, code, message)

    async def _event(
        self, event_type: str, feed_state: str, message: str, error_code: str | None = None
    ) -> None:
        """Orders from before the patch append each event in a step of its own."""
        assert self._accepted is not None
        await self._bookkeeping(
            "append_order_event",
            order_event(
                self._input.spec,
                self._accepted,
                event_type,
                feed_state,
                message,
                order_number=self._order_number,
                service_id=self._service_id,
                error_code=error_code,
            ),
        )

    def _decide_patches(self) -> None:
        """Take the patch decision in the first activation, before any command.

        Deciding it lazily (at the first local step) would let an order that was already
        running when the patch was deployed take the new path midway, and a replay of it
        would then decide differently at an earlier step. (``workflow.patched`` answers
        the same for the whole run, so calling it from ``run`` and ``accept`` agrees.)
        """
        self._local_steps = workflow.patched(LOCAL_BOOKKEEPING)
        self._one_backend_step = self._local_steps and workflow.patched(ONE_BACKEND_STEP)

    async def _bookkeeping(self, activity: Callable[..., Awaitable[T]] | str, arg: object) -> T:
        # Shielded: bookkeeping after a cancellation request must still run.
        return await asyncio.shield(
            asyncio.ensure_future(
                self._execute(
                    activity, arg, start_to_close=BOOKKEEPING_TIMEOUT, retry=BOOKKEEPING_RETRY
                )
            )
        )

    async def _execute(
        self,
        activity: Callable[..., Awaitable[T]] | str,
        arg: object,
        *,
        start_to_close: timedelta,
        retry: RetryPolicy,
    ) -> T:
        """Run a step on our own database: locally since ``LOCAL_BOOKKEEPING``."""
        if self._local_steps:
            return await workflow.execute_local_activity(
                activity, arg, start_to_close_timeout=start_to_close, retry_policy=retry
            )
        return await workflow.execute_activity(
            activity, arg, start_to_close_timeout=start_to_close, retry_policy=retry
        )

    def _step_timeout(self, calls: int = 1) -> timedelta:
        """An attempt's time: the policy's step timeout for each backend call it makes."""
        return timedelta(seconds=self._input.policy.step_timeout_seconds * calls)

    def _step_retry(self) -> RetryPolicy:
        policy = self._input.policy
        return RetryPolicy(
            initial_interval=timedelta(seconds=policy.retry_initial_interval_seconds),
            backoff_coefficient=2.0,
            maximum_interval=STEP_MAX_RETRY_INTERVAL,
            maximum_attempts=policy.step_max_attempts,
        )

    def _set_state(self, state: OperatorState) -> None:
        self._state = state
        updates = [sa.ORDER_STATE.value_set(state.value)]
        if state == OperatorState.SUCCEEDED and self._local_steps and self._service_id:
            updates.append(sa.SERVICE_ID.value_set(self._service_id))
        workflow.upsert_search_attributes(updates)
        workflow.set_current_details(self._details())

    def _details(self) -> str:
        spec = self._input.spec
        lines = [
            f"**{self._state.value}**, step: {self._step}",
            f"customer {spec.customer_number}, externalId {spec.external_id}, "
            f"{spec.action}"
            + (
                f" {self._accepted.speed} at {self._accepted.master_site_id}"
                if self._accepted
                else ""
            ),
        ]
        if self._order_number:
            lines.append(f"orderId {self._order_number}")
        if self._service_id:
            lines.append(f"serviceId {self._service_id}")
        if self._parked_step:
            lines.append(
                f"PARKED at '{self._parked_step}': {self._parked_reason}. "
                f"Fix the cause, then `iod orders retry {spec.order_request_id}`."
            )
        return "\n\n".join(lines)

    def _outcome(
        self, state: OperatorState, code: str | None = None, message: str | None = None
    ) -> OrderOutcome:
        return OrderOutcome(
            order_request_id=self._input.spec.order_request_id,
            state=state,
            order_number=self._order_number,
            service_id=self._service_id,
            error_code=code,
            error_message=message,
        )


def _describe(err: ActivityError) -> str:
    """A short reason for operators: the innermost failure's message."""
    cause: BaseException | None = err.cause
    while isinstance(cause, FailureError) and cause.cause is not None:
        if isinstance(cause, ApplicationError):
            break
        cause = cause.cause
    if isinstance(cause, TemporalTimeoutError):
        return f"the step timed out ({cause.type.name if cause.type else 'timeout'})"
    if isinstance(cause, FailureError):
        return cause.message
    return str(err)

"""A deliberately incompatible edit of the order workflow, for the replay test.

It lives in its own module because the workflow sandbox re-imports the module that
defines a workflow, and the test module imports things a workflow may not touch.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.orders import OrderOutcome, OrderWorkflowInput
    from workflows.order import OrderWorkflow


@workflow.defn(name="OrderWorkflow")
class ChangedWorkflow(OrderWorkflow):
    """The order workflow with one extra timer up front: recorded histories must not replay."""

    @workflow.run
    async def run(self, input: OrderWorkflowInput) -> OrderOutcome:
        await workflow.sleep(1)
        return await super().run(input)

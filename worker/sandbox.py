"""The workflow sandbox, minus one cost that buys no safety.

For every payload it encodes or decodes, the SDK (temporalio 1.35) asks the workflow
instance which serialization context applies (the workflow's own, or an activity's). The
stock sandbox answers by ``exec``-ing a code string inside the sandbox each time, several
times per payload and activation: about a tenth of the worker's CPU per order
(benchmarks/README.md). The answer is a lookup in the SDK's own bookkeeping of pending
commands (``_WorkflowInstanceImpl.get_serialization_context``), which runs no workflow code
and touches nothing the sandbox restricts, so this runner asks that instance directly.

Workflow code still runs inside the full sandbox: its modules are re-imported per run and
the clock, randomness and I/O are refused (tests/test_worker_sandbox.py). Should a release
of the SDK change the internals this relies on, the stock path answers
(tests/test_worker_sandbox.py checks that the shortcut is taken and answers exactly what
the stock path answers).
"""

from __future__ import annotations

from typing import Any

from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import _runner as sandbox_runner

_IN_SANDBOX = "__temporal_in_sandbox"


class _Instance(sandbox_runner._Instance):
    """A sandboxed workflow whose context lookups skip the round trip into the sandbox."""

    def get_serialization_context(self, command_info: Any) -> Any:
        in_sandbox: Any = self.globals_and_locals.get(_IN_SANDBOX)
        if in_sandbox is None:  # not the internals this was written for: the stock path
            return super().get_serialization_context(command_info)
        return in_sandbox.get_serialization_context(command_info)

    def get_external_store_context(self, command_info: Any) -> Any:
        in_sandbox: Any = self.globals_and_locals.get(_IN_SANDBOX)
        if in_sandbox is None:
            return super().get_external_store_context(command_info)
        return in_sandbox.get_external_store_context(command_info)


class DirectContextSandboxedWorkflowRunner(SandboxedWorkflowRunner):
    """The full sandbox for workflow code; serialization contexts looked up directly.

    Every workflow run re-imports the workflow modules, with the clock, randomness and
    I/O refused while it runs. Passing all modules through would save the re-import too,
    but then a workflow module's own ``datetime`` is the real one and ``datetime.now()``
    is no longer refused (tests/test_worker_sandbox.py): not worth the orders' safety.
    """

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _Instance(det, self.runner_class, self.restrictions)

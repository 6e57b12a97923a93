"""Workflows for tests/test_worker_sandbox.py (a module of their own: the sandbox loads it)."""

from __future__ import annotations

import datetime

from temporalio import workflow


@workflow.defn(sandboxed=True)
class ReadsTheClock:
    @workflow.run
    async def run(self) -> str:
        return datetime.datetime.now().isoformat()  # not deterministic: refused


@workflow.defn(sandboxed=True)
class SleepsDeterministically:
    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(0.01)
        return "slept"

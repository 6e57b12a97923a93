"""The bare-Temporal baseline: one workflow with one activity, started through the SDK."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_noop")
async def bench_noop(value: str) -> str:
    return value


@workflow.defn(name="BenchBaseline")
class BenchBaseline:
    @workflow.run
    async def run(self, value: str) -> str:
        return await workflow.execute_activity(
            bench_noop, value, start_to_close_timeout=timedelta(seconds=30)
        )

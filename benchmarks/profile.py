"""Profile the API or the worker under a benchmark's load with py-spy (sampling, no code change).

    python -m benchmarks.profile status    # the API while it answers status reads
    python -m benchmarks.profile orders    # the worker while orders run to SUCCEEDED

Prints the functions with the most samples, inclusive (on the stack) and exclusive (on
top), from our code and libraries alike; the raw collapsed stacks go to
``benchmarks/results/profile-<target>.txt`` for a flame graph.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks import orders
from benchmarks.harness import running_system
from benchmarks.status_scale import add_synthetic_orders, recent_order_ids

RESULTS = Path(__file__).parent / "results"


def _py_spy(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes]:
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen(
        [
            exe,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summarize(collapsed: Path, top: int = 25) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    exclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = stack.split(";")
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        exclusive[frames[-1]] += count
    lines = [f"{total} samples", "", "inclusive:"]
    lines += [f"{100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    lines += ["", "exclusive:"]
    lines += [f"{100 * n / total:5.1f}%  {f}" for f, n in exclusive.most_common(top)]
    return "\n".join(lines)


async def main(target: str, seconds: int) -> None:
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"profile-{target}.txt"
    async with running_system() as system:
        if target == "status":
            await add_synthetic_orders(system.database_url, 10_000)
            ids = await recent_order_ids(system.database_url, 500)
            spy = _py_spy(system.api_pid, seconds, out)
            while spy.poll() is None:
                await orders.status_reads(system, ids, 2000, 32)
        else:
            spy = _py_spy(system.worker_pid, seconds, out)
            while spy.poll() is None:
                await orders.order_throughput(system, 40, 16)
    print(summarize(out))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("target", choices=["status", "orders"])
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.target, args.seconds))

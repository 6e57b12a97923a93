"""Profile the API or the worker under a benchmark's load with py-spy (sampling, no code
change, the process under test is not slowed down by an in-process profiler):

    python -m benchmarks.profile status         # the API while it answers status reads
    python -m benchmarks.profile feed           # the API while it answers ?since= reads
    python -m benchmarks.profile orders         # the worker while orders run to SUCCEEDED
    python -m benchmarks.profile orders-api     # the API while orders run to SUCCEEDED
    python -m benchmarks.profile orders --gil   # CPU only: samples of the GIL holder

Prints the functions with the most samples, inclusive (on the stack) and exclusive (on
top), from our code and libraries alike; the raw collapsed stacks go to
``benchmarks/results/profile-<target>.txt`` (not committed) for a flame graph.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from benchmarks import feed, orders
from benchmarks.harness import running_system, token
from benchmarks.load import get_load
from benchmarks.status_scale import add_synthetic_orders, random_order_ids

RESULTS = Path(__file__).parent / "results"


def _py_spy(pid: int, seconds: int, out: Path, gil: bool = False) -> subprocess.Popen[bytes]:
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
            *(["--gil"] if gil else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summarize(collapsed: Path, top: int = 30) -> str:
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


async def main(target: str, seconds: int, top: int, gil: bool) -> None:
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"profile-{target}.txt"
    async with running_system() as system:
        async with httpx.AsyncClient(base_url=system.base_url) as http:
            headers = await token(http, system.base_url)
        if target == "status":
            await orders.order_throughput(system, 16, 8, 1)  # real orders to copy
            await add_synthetic_orders(system.database_url, 10_000)
            ids = await random_order_ids(system.database_url, 2_000)
            spy = _py_spy(system.api_pid, seconds, out, gil)
            while spy.poll() is None:
                await get_load(
                    system.base_url,
                    lambda: f"{orders.ORDER}/{random.choice(ids)}",
                    requests=2_000,
                    concurrency=16,
                    headers=headers,
                )
        elif target == "feed":
            await feed.grow_event_log(system.database_url, 100_000)
            spy = _py_spy(system.api_pid, seconds, out, gil)
            while spy.poll() is None:
                await feed.since_latency(system, 200)
        else:
            pid = system.worker_pid if target == "orders" else system.api_pid
            spy = _py_spy(pid, seconds, out, gil)
            while spy.poll() is None:
                await orders.order_throughput(system, 48, 16, 1)
    print(summarize(out, top))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("target", choices=["status", "feed", "orders", "orders-api"])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--gil",
        action="store_true",
        help="only samples of the thread holding the GIL: where the CPU goes, without the "
        "time threads spend waiting for the GIL (the worker runs workflows in threads)",
    )
    args = parser.parse_args()
    asyncio.run(main(args.target, args.seconds, args.top, args.gil))

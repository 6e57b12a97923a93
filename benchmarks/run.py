"""Run the benchmarks: ``make bench`` (``python -m benchmarks.run``), or ``--quick``.

One system is started (embedded PostgreSQL, Temporal dev server, and the API and the
worker each in its own process) and each benchmark measures a ratio within the run, so
a noisy machine cancels out. Results go to ``benchmarks/results/latest.json`` (or
``quick.json``); the Markdown table is printed and, for a full run, written into
``benchmarks/README.md`` between the ``results`` markers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from benchmarks import feed, orders, webhooks
from benchmarks.harness import running_system
from benchmarks.status_scale import (
    add_running_orders,
    add_synthetic_orders,
    delete_orders,
    random_order_ids,
)

HERE = Path(__file__).parent
RESULTS = HERE / "results"
README = HERE / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


@dataclass(frozen=True)
class Sizes:
    orders: int
    order_concurrency: int
    order_rounds: int
    status_scale: tuple[int, int]
    read_seconds: float
    read_concurrency: int
    read_rounds: int
    feed_log: tuple[int, int]
    since_requests: int
    webhook_events: int
    webhook_subscriptions: tuple[int, ...]


FULL = Sizes(
    orders=300,
    order_concurrency=16,
    order_rounds=3,
    status_scale=(1_000, 100_000),
    read_seconds=3.0,
    read_concurrency=32,
    read_rounds=6,
    feed_log=(1_000, 1_000_000),
    since_requests=1_000,
    webhook_events=500,
    webhook_subscriptions=(1, 4),
)
QUICK = Sizes(
    orders=48,
    order_concurrency=8,
    order_rounds=2,
    status_scale=(1_000, 10_000),
    read_seconds=1.5,
    read_concurrency=16,
    read_rounds=3,
    feed_log=(1_000, 100_000),
    since_requests=300,
    webhook_events=100,
    webhook_subscriptions=(1, 4),
)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
    ).stdout.strip()
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "commit": commit,
    }


async def main(sizes: Sizes, quick: bool) -> dict[str, Any]:
    began = time.perf_counter()
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m benchmarks.run" + (" --quick" if quick else ""),
        "quick": quick,
        "machine": machine(),
    }
    async with running_system(
        IOD_WEBHOOK_ALLOW_PRIVATE_TARGETS="true", IOD_WEBHOOK_REQUIRE_HTTPS="false"
    ) as system:
        _log("order throughput")
        results["order_throughput"] = await orders.order_throughput(
            system, sizes.orders, sizes.order_concurrency, sizes.order_rounds
        )
        scale: dict[str, Any] = {}
        running_scale: dict[str, Any] = {}
        for total in sizes.status_scale:
            _log(f"status reads, {total} orders")
            rows = await add_synthetic_orders(system.database_url, total)
            ids = await random_order_ids(system.database_url, 2_000)
            scale[str(total)] = await orders.status_reads(
                system, ids, sizes.read_seconds, sizes.read_concurrency, sizes.read_rounds
            )
            scale[str(total)]["orders"] = rows
            # Running orders are never kept in memory: this is the database read path.
            _log(f"status reads of running orders, {total} orders")
            running = await add_running_orders(system.database_url, 2_000)
            running_scale[str(total)] = await orders.status_reads(
                system, running, sizes.read_seconds, sizes.read_concurrency, sizes.read_rounds
            )
            running_scale[str(total)]["orders"] = rows + len(running)
            await delete_orders(system.database_url, running)
        small, large = (scale[str(t)] for t in sizes.status_scale)
        small_running, large_running = (running_scale[str(t)] for t in sizes.status_scale)
        results["status_reads"] = {
            "by_orders": scale,
            # The status/healthz ratio with many orders vs with few: no slowdown is 1. (Each
            # ratio is taken in interleaved rounds, so the machine's drift between the two
            # sizes cancels out; the raw requests/s are in the table too.)
            "growth_ratio": large["ratio"] / small["ratio"],
            "running_by_orders": running_scale,
            "running_growth_ratio": large_running["ratio"] / small_running["ratio"],
        }
        _log("event feed")
        results["event_feed"] = await feed.feed_benchmark(
            system, sizes.feed_log[0], sizes.feed_log[1], sizes.since_requests
        )
        hooks = []
        for count in sizes.webhook_subscriptions:
            _log(f"webhook delivery, {count} subscription(s)")
            hooks.append(await webhooks.delivery_rate(system, sizes.webhook_events, count))
        results["webhook_delivery"] = hooks
    results["targets"] = targets(results)
    results["duration_seconds"] = round(time.perf_counter() - began)
    return results


def _log(what: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {what}", file=sys.stderr, flush=True)


def targets(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    o, s, f = r["order_throughput"], r["status_reads"], r["event_feed"]
    checks: dict[str, tuple[float, str, float]] = {
        "orders_vs_bare_temporal": (o["ratio"], ">=", 0.5),
        **{
            f"status_vs_healthz_{n}_orders": (v["ratio"], ">=", 0.6)
            for n, v in s["by_orders"].items()
        },
        "status_growth": (s["growth_ratio"], ">=", 0.9),
        "status_running_growth": (s["running_growth_ratio"], ">=", 0.9),
        "feed_since_large_vs_small": (f["since_growth_ratio"], "<=", 1.5),
        "feed_dump_memory_growth_mb": (f["full_dump"]["api_rss_peak_growth_mb"], "<", 50.0),
    }
    out: dict[str, dict[str, Any]] = {}
    for name, (value, op, limit) in checks.items():
        met = value >= limit if op == ">=" else value <= limit if op == "<=" else value < limit
        out[name] = {"value": round(value, 3), "target": f"{op} {limit:g}", "met": met}
    return out


def _yes(met: bool) -> str:
    return "**yes**" if met else "**no**"


def table(r: dict[str, Any]) -> str:
    t, m = r["targets"], r["machine"]
    o, b = r["order_throughput"], r["order_throughput"]["baseline"]
    lines = [
        f"Run {r['when']} (`{r['command']}`, {r['duration_seconds'] // 60} min) on "
        f"{m['cores']} × {m['cpu']}, {m['memory_gb']} GB, {m['platform']}, "
        f"Python {m['python']}, commit {m['commit']}; load average at start "
        f"{m['load_average_at_start'][0]}.",
        "",
        "| benchmark | measured | baseline (same run) | ratio | target | met |",
        "|---|---|---|---|---|---|",
        f"| 1. orders to SUCCEEDED, {o['orders']} orders, {o['concurrency']} in flight "
        f"| **{o['orders_per_second']:.1f} orders/s**; POST p50 {o['post_p50_ms']:.0f} ms, "
        f"p99 {o['post_p99_ms']:.0f} ms; submit→SUCCEEDED p50 {o['done_p50_ms']:.0f} ms, "
        f"p99 {o['done_p99_ms']:.0f} ms "
        f"| bare workflow + 1 activity: {b['workflows_per_second']:.1f}/s, "
        f"p50 {b['done_p50_ms']:.0f} ms, p99 {b['done_p99_ms']:.0f} ms "
        f"| {o['ratio']:.2f} | ≥ 0.5 | {_yes(t['orders_vs_bare_temporal']['met'])} |",
    ]
    for n, v in r["status_reads"]["by_orders"].items():
        st, hz = v["status"], v["healthz"]
        lines.append(
            f"| 2. status reads, {v['orders']:,} orders, {v['concurrency']} connections "
            f"| **{st['requests_per_second']:.0f} req/s**, p50 {st['p50_ms']:.1f} ms, "
            f"p99 {st['p99_ms']:.1f} ms "
            f"| `/healthz`: {hz['requests_per_second']:.0f} req/s, p99 {hz['p99_ms']:.1f} ms "
            f"| {v['ratio']:.2f} | ≥ 0.6 | {_yes(t[f'status_vs_healthz_{n}_orders']['met'])} |"
        )
    for v in r["status_reads"]["running_by_orders"].values():
        st, hz = v["status"], v["healthz"]
        lines.append(
            f"| 2. status reads of RUNNING orders (always from PostgreSQL), {v['orders']:,} "
            f"orders | {st['requests_per_second']:.0f} req/s, p50 {st['p50_ms']:.1f} ms, "
            f"p99 {st['p99_ms']:.1f} ms "
            f"| `/healthz`: {hz['requests_per_second']:.0f} req/s, p99 {hz['p99_ms']:.1f} ms "
            f"| {v['ratio']:.2f} | (information) | |"
        )
    small, large = r["status_reads"]["by_orders"].values()
    lines.append(
        f"| 2. status reads as orders grow (status/healthz ratio) "
        f"| {large['orders']:,} orders: {large['ratio']:.2f} "
        f"| {small['orders']:,} orders: {small['ratio']:.2f} "
        f"| {r['status_reads']['growth_ratio']:.2f} | ≥ 0.9 | {_yes(t['status_growth']['met'])} |"
    )
    small, large = r["status_reads"]["running_by_orders"].values()
    lines.append(
        f"| 2. status reads of RUNNING orders as orders grow "
        f"| {large['orders']:,} orders: {large['ratio']:.2f} "
        f"| {small['orders']:,} orders: {small['ratio']:.2f} "
        f"| {r['status_reads']['running_growth_ratio']:.2f} | ≥ 0.9 "
        f"| {_yes(t['status_running_growth']['met'])} |"
    )
    f = r["event_feed"]
    (n_small, lat_small), (n_large, lat_large) = f["since_latency"].items()
    dump = f["full_dump"]
    lines += [
        f"| 3. feed `?since=<recent>` (10 events back), {int(n_large):,} feed events "
        f"| p50 {lat_large['p50_ms']:.2f} ms, p99 {lat_large['p99_ms']:.2f} ms "
        f"(`/healthz` p50 {lat_large['healthz_p50_ms']:.2f} ms) "
        f"| {int(n_small):,} feed events: p50 {lat_small['p50_ms']:.2f} ms, "
        f"p99 {lat_small['p99_ms']:.2f} ms (`/healthz` p50 {lat_small['healthz_p50_ms']:.2f} ms) "
        f"| {f['since_growth_ratio']:.2f} (raw p50s: {f['since_p50_ratio']:.2f}) | ≤ 1.5 "
        f"| {_yes(t['feed_since_large_vs_small']['met'])} |",
        f"| 3. feed full dump, {dump['events']:,} events ({dump['bytes'] / 2**20:.0f} MB) "
        f"| **{dump['events_per_second']:,.0f} events/s** ({dump['seconds']:.1f} s); "
        f"API peak RSS +{dump['api_rss_peak_growth_mb']:.1f} MB "
        f"| API RSS before: {dump['api_rss_before_mb']:.0f} MB | | growth < 50 MB "
        f"| {_yes(t['feed_dump_memory_growth_mb']['met'])} |",
    ]
    for h in r["webhook_delivery"]:
        lines.append(
            f"| 4. webhooks, {h['subscriptions']} subscription(s) × {h['events']} events "
            f"| **{h['events_per_second']:.1f} deliveries/s** ({h['seconds']:.1f} s) "
            f"| lost {h['lost']}, out of order {h['out_of_order']}, duplicates "
            f"{h['duplicates']}, bad signatures {h['bad_signatures']} | | (none) | |"
        )
    return "\n".join(lines)


def update_readme(markdown: str) -> None:
    text = README.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    README.write_text(text[:start] + "\n" + markdown + "\n" + text[end:])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (about 3 minutes)")
    args = parser.parse_args()
    outcome = asyncio.run(main(QUICK if args.quick else FULL, args.quick))
    RESULTS.mkdir(exist_ok=True)
    name = "quick.json" if args.quick else "latest.json"
    (RESULTS / name).write_text(json.dumps(outcome, indent=2) + "\n")
    markdown = table(outcome)
    if not args.quick and README.exists() and BEGIN in README.read_text():
        update_readme(markdown)
    print(markdown)

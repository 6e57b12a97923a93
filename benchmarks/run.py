"""Run the benchmarks: ``make bench`` (or ``python -m benchmarks.run --quick``).

Each benchmark measures a ratio within one run, so a noisy machine cancels out. Results
go to ``benchmarks/results/latest.json`` and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import feed, orders, webhooks
from benchmarks.harness import running_system
from benchmarks.status_scale import add_synthetic_orders, recent_order_ids

RESULTS = Path(__file__).parent / "results"


async def main(quick: bool) -> dict[str, Any]:
    n_orders, concurrency = (40, 8) if quick else (300, 16)
    reads, read_concurrency = (1000, 16) if quick else (5000, 32)
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": platform.platform(),
        "quick": quick,
    }
    async with running_system(
        IOD_WEBHOOK_ALLOW_PRIVATE_TARGETS="true", IOD_WEBHOOK_REQUIRE_HTTPS="false"
    ) as system:
        results["order_throughput"] = await orders.order_throughput(system, n_orders, concurrency)
        results["bare_temporal_baseline"] = await orders.bare_baseline(
            system.temporal, n_orders, concurrency
        )
        results["order_throughput"]["ratio_to_baseline"] = (
            results["order_throughput"]["orders_per_second"]
            / results["bare_temporal_baseline"]["workflows_per_second"]
        )
        scale: dict[str, Any] = {}
        for total in (1_000, 10_000 if quick else 100_000):
            await add_synthetic_orders(system.database_url, total)
            ids = await recent_order_ids(system.database_url, 500)
            scale[str(total)] = await orders.status_reads(system, ids, reads, read_concurrency)
        results["status_reads"] = scale
        large_log = 100_000 if quick else 1_000_000
        results["event_feed"] = await feed.feed_benchmark(system, 1_000, large_log, 200)
        results["webhook_delivery"] = await webhooks.delivery_rate(system, 100 if quick else 500)
    return results


def table(results: dict[str, Any]) -> str:
    o, b = results["order_throughput"], results["bare_temporal_baseline"]
    lines = [
        "| benchmark | measured | baseline | ratio | target |",
        "|---|---|---|---|---|",
        f"| orders to SUCCEEDED (c={o['concurrency']}) | {o['orders_per_second']:.1f}/s, "
        f"POST p50 {o['post_p50_ms']:.0f} ms p99 {o['post_p99_ms']:.0f} ms, done p99 "
        f"{o['done_p99_ms']:.0f} ms | bare workflow {b['workflows_per_second']:.1f}/s "
        f"| {o['ratio_to_baseline']:.2f} | ≥ 0.5 |",
    ]
    for total, s in results["status_reads"].items():
        lines.append(
            f"| status reads, {total} orders | {s['status']['requests_per_second']:.0f} req/s, "
            f"p99 {s['status']['p99_ms']:.1f} ms | /healthz "
            f"{s['healthz']['requests_per_second']:.0f} req/s | {s['ratio']:.2f} | ≥ 0.6 |"
        )
    f = results["event_feed"]
    small, large = f["since_latency"]
    dump, hook = f["full_dump"], results["webhook_delivery"]
    lines += [
        f"| feed `since=<recent>`, {large} events"
        f" | p50 {f['since_latency'][large]['p50_ms']:.1f} ms"
        f" | {small} events: p50 {f['since_latency'][small]['p50_ms']:.1f} ms"
        f" | {f['since_p50_ratio']:.2f} | ≤ 1.5 |",
        f"| feed full dump, {dump['events']} events | {dump['events_per_second']:.0f} events/s,"
        f" API memory +{dump['api_rss_peak_growth_mb']:.1f} MB | | | < 50 MB |",
        f"| webhook delivery, 1 subscription | {hook['events_per_second']:.1f} events/s"
        f" ({hook['events']} events, {hook['bad_signatures']} bad signatures) | | | |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes (a minute)")
    args = parser.parse_args()
    outcome = asyncio.run(main(args.quick))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(outcome, indent=2))
    print(table(outcome))

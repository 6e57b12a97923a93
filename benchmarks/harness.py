"""A real system for benchmarks: embedded PostgreSQL, Temporal dev server, API and worker
processes over HTTP. Everything local; nothing downloads."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from embedded.postgres import EmbeddedPostgres
from embedded.temporal import temporal_cli_path
from store.demo_seed import seed_demo
from store.migrate import migrate
from workflows.search_attributes import ALL_KEYS


@dataclass
class System:
    base_url: str
    database_url: str
    temporal: Client
    task_queue: str
    api_pid: int
    worker_pid: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def running_system(**env: str) -> AsyncIterator[System]:
    root = Path(tempfile.mkdtemp(prefix="iod-bench-"))
    pg = EmbeddedPostgres(root / "pg", database="iod")
    database_url = await asyncio.to_thread(pg.start)
    conn = await asyncpg.connect(database_url)
    await migrate(conn)
    await seed_demo(conn)
    await conn.close()
    temporal_env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=temporal_cli_path(),
        search_attributes=ALL_KEYS,
        dev_server_log_level="error",
    )
    address = temporal_env.client.service_client.config.target_host
    port = free_port()
    # Compiled bytecode, as an installed package has (pip compiles at install): without
    # it (PYTHONDONTWRITEBYTECODE, an editable install) the worker would compile the
    # workflow modules again for every new workflow's sandbox. Kept out of the sources.
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    common = {
        **environ,
        "PYTHONPYCACHEPREFIX": str(root / "pycache"),
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": address,
        "IOD_TASK_QUEUE": "bench",
        "IOD_LOG_LEVEL": "WARNING",
        "IOD_SANDBOX_LATENCY_SECONDS": "0",
        "IOD_DB_POOL_MAX": "20",
        **env,
    }
    api = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "api"],
        env={**common, "IOD_API_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "worker"],
        env=common,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(base_url)
        yield System(base_url, database_url, temporal_env.client, "bench", api.pid, worker.pid)
    finally:
        for process in (api, worker):
            process.terminate()
        for process in (api, worker):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        await temporal_env.shutdown()
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


async def _wait_ready(base_url: str) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(f"{base_url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the API did not become ready")
            await asyncio.sleep(0.2)


async def token(client: httpx.AsyncClient, base_url: str) -> dict[str, str]:
    response = await client.post(
        f"{base_url}/oauth/v2/token",
        auth=("demo-client", "demo-secret"),
        data={"grant_type": "client_credentials"},
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]

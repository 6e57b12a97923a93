"""`iod dev`, the README's run command: everything up, usable, stopped by Ctrl-C, data kept.

Runs the real command as a subprocess on free ports with its own data folder.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from temporalio.client import Client, WorkflowExecutionStatus

from domain.orders import order_workflow_id
from tests.ordering import new_quote, order_body, place_order, wait_for_status

STARTUP_DEADLINE_SECONDS = 120.0
SHUTDOWN_DEADLINE_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dev_environment(data_dir: Path, ports: dict[str, int]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOD_")}
    env.pop("DATABASE_URL", None)
    env.pop("TEMPORAL_ADDRESS", None)
    env |= {
        "IOD_DATA_DIR": str(data_dir),
        "IOD_API_PORT": str(ports["api"]),
        "IOD_TEMPORAL_PORT": str(ports["temporal"]),
        "IOD_TEMPORAL_UI_PORT": str(ports["ui"]),
    }
    return env


async def _wait_until_healthy(api: httpx.AsyncClient, process: asyncio.subprocess.Process) -> None:
    deadline = asyncio.get_running_loop().time() + STARTUP_DEADLINE_SECONDS
    while True:
        assert process.returncode is None, "iod dev exited during startup"
        try:
            if (await api.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert asyncio.get_running_loop().time() < deadline, "iod dev did not become ready"
        await asyncio.sleep(0.2)


@asynccontextmanager
async def _iod_dev(data_dir: Path, ports: dict[str, int]) -> AsyncIterator[httpx.AsyncClient]:
    iod = Path(sys.executable).with_name("iod")
    process = await asyncio.create_subprocess_exec(
        str(iod),
        "dev",
        env=_dev_environment(data_dir, ports),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['api']}") as api:
            await _wait_until_healthy(api, process)
            yield api
        process.send_signal(signal.SIGINT)  # Ctrl-C
        async with asyncio.timeout(SHUTDOWN_DEADLINE_SECONDS):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def _port_is_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


async def test_iod_dev_runs_everything_stops_on_ctrl_c_and_keeps_its_data(tmp_path: Path) -> None:
    ports = {"api": _free_port(), "temporal": _free_port(), "ui": _free_port()}
    async with _iod_dev(tmp_path, ports) as api:
        issued = await api.post(
            "/oauth/v2/token",
            auth=("demo-client", "demo-secret"),
            data={"grant_type": "client_credentials"},
        )
        assert issued.status_code == 200, issued.text
        headers = {"Authorization": f"Bearer {issued.json()['access_token']}"}
        providers = await api.get("/Network/v1/provider", headers=headers)
        assert providers.status_code == 200
        assert {p["id"] for p in providers.json()["listPartners"]} >= {"43558", "362232"}
        async with httpx.AsyncClient() as browser:
            ui = await browser.get(f"http://127.0.0.1:{ports['ui']}/")
        assert ui.status_code == 200
        assert (await api.get("/docs")).status_code == 200
        order = await place_order(api, headers, order_body(await new_quote(api, headers)))
        assert (await wait_for_status(api, headers, order["id"]))["state"] == "SUCCEEDED"

    # Ctrl-C stopped all of it: the API, Temporal and its Web UI.
    assert all(_port_is_closed(port) for port in ports.values())

    # Started again on the same data folder: PostgreSQL kept the token and the order,
    # Temporal's SQLite file kept the order's workflow.
    async with _iod_dev(tmp_path, ports) as api:
        status = await api.get(f"/Customer/v3/Ordering/orderRequest/{order['id']}", headers=headers)
        assert status.status_code == 200
        assert status.json()["state"] == "SUCCEEDED"
        temporal = await Client.connect(f"127.0.0.1:{ports['temporal']}")
        description = await temporal.get_workflow_handle(order_workflow_id(order["id"])).describe()
        assert description.status == WorkflowExecutionStatus.COMPLETED

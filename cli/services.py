"""Running the platform's parts: servers (embedded or external), migrations, worker, API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import uvicorn

from api.main import create_app
from config.settings import Settings
from embedded.postgres import EmbeddedPostgres
from embedded.temporal import EmbeddedTemporal
from store.demo_seed import seed_demo
from store.migrate import migrate
from store.pool import create_pool
from telemetry.tracing import temporal_interceptors
from worker.main import build_worker
from worker.temporal_client import connect_temporal, ensure_search_attributes

log = logging.getLogger("iod")


@dataclass
class Servers:
    database_url: str
    temporal_address: str


@contextlib.asynccontextmanager
async def servers(
    settings: Settings, *, embedded: bool, with_temporal: bool = True
) -> AsyncIterator[Servers]:
    """External servers when configured; otherwise (with ``embedded``) start local ones."""
    pg: EmbeddedPostgres | None = None
    temporal: EmbeddedTemporal | None = None
    try:
        database_url = settings.database_url
        if not database_url:
            if not embedded:
                raise SystemExit("DATABASE_URL is not set (or run `iod dev` for embedded servers)")
            pg = EmbeddedPostgres(settings.data_dir / "postgres")
            database_url = await asyncio.to_thread(pg.start)
            log.info("embedded PostgreSQL ready (data in %s)", pg.data_dir)
        temporal_address = settings.temporal_address or ""
        if not temporal_address and with_temporal:
            if not embedded:
                raise SystemExit("TEMPORAL_ADDRESS is not set (or run `iod dev`)")
            temporal = EmbeddedTemporal(
                settings.data_dir / "temporal",
                port=settings.temporal_port,
                ui_port=settings.temporal_ui_port,
                namespace=settings.temporal_namespace,
            )
            temporal_address = await temporal.start()
            log.info(
                "embedded Temporal ready on %s, Web UI on http://127.0.0.1:%d",
                temporal_address,
                settings.temporal_ui_port,
            )
        yield Servers(database_url, temporal_address)
    finally:
        if temporal is not None:
            temporal.stop()
        if pg is not None:
            pg.stop()


async def prepare(settings: Settings, *, seed: bool) -> None:
    """Migrations, search attributes and (in dev) demo data: safe to run every start."""
    assert settings.database_url and settings.temporal_address
    conn = await asyncpg.connect(settings.database_url)
    try:
        applied = await migrate(conn)
        if applied:
            log.info("applied migrations %s", applied)
        if seed:
            await seed_demo(conn)
    finally:
        await conn.close()
    client = await connect_temporal(settings.temporal_address, settings.temporal_namespace)
    await ensure_search_attributes(client)


async def run_worker(settings: Settings) -> None:
    assert settings.database_url and settings.temporal_address
    client = await connect_temporal(
        settings.temporal_address,
        settings.temporal_namespace,
        interceptors=temporal_interceptors(settings),
        prometheus_address=settings.worker_metrics_address if settings.metrics_enabled else None,
    )
    pool = await create_pool(settings.database_url, max_size=settings.db_pool_max)
    try:
        async with httpx.AsyncClient() as http:
            worker = build_worker(client, pool, http, settings)
            log.info("worker polling task queue %s", settings.task_queue)
            await worker.run()
    finally:
        await pool.close()


async def run_api(settings: Settings) -> None:
    config = uvicorn.Config(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
    )
    log.info("API on http://%s:%d (docs at /docs)", settings.api_host, settings.api_port)
    await uvicorn.Server(config).serve()


async def run_dev(settings: Settings) -> None:
    """Everything in one process tree; Ctrl-C stops it all cleanly."""
    async with servers(settings, embedded=True) as found:
        settings = settings.model_copy(
            update={"database_url": found.database_url, "temporal_address": found.temporal_address}
        )
        seed = settings.seed_demo_data is not False  # dev mode seeds unless told not to
        await prepare(settings, seed=seed)
        worker_task = asyncio.create_task(run_worker(settings), name="worker")
        api_task = asyncio.create_task(run_api(settings), name="api")
        try:
            # The API returns on Ctrl-C / SIGTERM (uvicorn handles them); a crashed
            # worker stops everything rather than leaving a half-working system.
            done, _ = await asyncio.wait({worker_task, api_task}, return_when=FIRST_COMPLETED)
        finally:
            for task in (worker_task, api_task):
                task.cancel()
            await asyncio.gather(worker_task, api_task, return_exceptions=True)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        log.info("stopping embedded servers")

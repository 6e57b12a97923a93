"""Prometheus metrics on the API, when enabled by setting."""

from __future__ import annotations

import asyncpg
import httpx
from temporalio.client import Client

from api.main import create_app
from config.settings import Settings


async def test_metrics_endpoint_counts_requests_by_route_template(
    settings: Settings, pool: asyncpg.Pool, temporal_client: Client
) -> None:
    app = create_app(
        settings.model_copy(update={"metrics_enabled": True}), pool=pool, temporal=temporal_client
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://m") as client:
        await client.get("/healthz")
        await client.get("/Customer/v3/Ordering/orderRequest/abc")  # 401, templated route
        text = (await client.get("/metrics")).text
    assert 'iod_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="/Customer/v3/Ordering/orderRequest/{order_request_id}",status="401"' in text
    assert "iod_http_request_duration_seconds_bucket" in text


async def test_metrics_are_off_by_default(api: httpx.AsyncClient) -> None:
    assert (await api.get("/metrics")).status_code == 404

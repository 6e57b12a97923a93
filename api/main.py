"""The FastAPI application: routers, problem handlers and a lifespan owning the pool and client."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI
from temporalio.client import Client

from api.finished_orders import FinishedOrders
from api.openapi import install_openapi
from api.problems import install_problem_handlers
from api.routers import (
    auth,
    billing,
    catalog,
    health,
    hub,
    inventory,
    operations,
    order_requests,
    orderevents,
    pricing,
    service_activation,
)
from api.token_cache import TokenOwnerCache
from config.settings import Settings, get_settings
from store.pool import create_pool
from telemetry.metrics import ApiMetrics
from telemetry.tracing import temporal_interceptors
from worker.temporal_client import connect_temporal

log = logging.getLogger(__name__)

DESCRIPTION = """
Order Internet On-Demand connections to partner data centres and follow every order
to completion without webhooks: a status lookup per order request (`Retry-After`
guided), a long-running-operation form, and the Service Activation order-event feed.

Authenticate with `POST /oauth/v2/token` (client credentials, HTTP Basic), then send
`Authorization: Bearer <access_token>` on every call. Errors are
`application/problem+json` with `title`, `detail` and `errors[{code, message, field}]`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    pool: asyncpg.Pool | None = None,
    temporal: Client | None = None,
) -> FastAPI:
    """Build the app. Tests hand in a pool and client; otherwise the lifespan opens them."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned_pool = None
        if pool is None:
            if not settings.database_url:
                raise RuntimeError("IOD_DATABASE_URL / DATABASE_URL is not set")
            owned_pool = await create_pool(
                settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
            )
        app.state.pool = pool or owned_pool
        if temporal is None:
            if not settings.temporal_address:
                raise RuntimeError("IOD_TEMPORAL_ADDRESS / TEMPORAL_ADDRESS is not set")
            app.state.temporal = await connect_temporal(
                settings.temporal_address,
                settings.temporal_namespace,
                lazy=True,
                interceptors=temporal_interceptors(settings),
                retry_for_seconds=settings.api_temporal_retry_seconds,
            )
        else:
            app.state.temporal = temporal
        try:
            yield
        finally:
            if owned_pool is not None:
                await owned_pool.close()

    app = FastAPI(
        title="Internet On-Demand ordering",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=DOCUMENTED_TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.token_cache = TokenOwnerCache(settings.token_cache_seconds)
    app.state.finished_orders = FinishedOrders(settings.finished_orders_cached)
    install_problem_handlers(app)
    if settings.metrics_enabled:
        ApiMetrics().install(app)
    for module in ROUTERS:
        app.include_router(module.router)
    install_openapi(app)
    if pool is not None:
        app.state.pool = pool
    if temporal is not None:
        app.state.temporal = temporal
    return app


ROUTERS = [
    # Matched in this order, one path pattern after another: the paths clients poll
    # come first. (The document lists them in the order of DOCUMENTED_TAGS.)
    health,
    order_requests,
    operations,
    orderevents,
    service_activation,
    auth,
    catalog,
    pricing,
    billing,
    inventory,
    hub,
]

DOCUMENTED_TAGS = [
    {"name": "Health", "description": "Liveness and readiness"},
    {"name": "Authentication", "description": "OAuth2 client credentials: an access token"},
    {"name": "Catalogue", "description": "Providers, locations and speeds"},
    {"name": "Pricing", "description": "A price request: a quote valid for 15 minutes"},
    {"name": "Billing accounts", "description": "The accounts an order can be billed to"},
    {"name": "Ordering", "description": "Submit an order request, then look up its status"},
    {
        "name": "Ordering (long-running operations)",
        "description": "The same orders as long-running operations: poll, cancel",
    },
    {"name": "Inventory", "description": "Your services"},
    {
        "name": "Service Activation 2.3.1",
        "description": "Activation orders and the order-event feed (`?since=`)",
    },
    {"name": "Notifications (webhooks)", "description": "Subscriptions to order events"},
]

"""All configuration in one place: environment variables prefixed ``IOD_``.

``DATABASE_URL`` and ``TEMPORAL_ADDRESS`` are also read without the prefix, as
deployment tooling usually sets them; when either is unset, ``iod dev`` starts an
embedded server for it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IOD_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("IOD_DATABASE_URL", "DATABASE_URL")
    )
    temporal_address: str | None = Field(
        default=None, validation_alias=AliasChoices("IOD_TEMPORAL_ADDRESS", "TEMPORAL_ADDRESS")
    )
    temporal_namespace: str = "default"
    task_queue: str = "iod-orders"
    api_temporal_retry_seconds: float = 3.0
    """How long an API call retries an unreachable Temporal server before answering 503."""
    worker_workflow_pollers: int = 5
    worker_activity_pollers: int = 5
    worker_max_concurrent_activities: int = 100

    data_dir: Path = Path(".iod-data")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    db_pool_min: int = 1
    db_pool_max: int = 10

    public_base_url: str = "http://localhost:8000"
    access_token_ttl_seconds: int = 1799
    token_cache_seconds: float = 30.0
    """How long the API remembers a token's owner in memory (0: look it up every time)."""
    finished_orders_cached: int = Field(default=5_000, ge=0)
    """How many finished orders each API process keeps in memory for status reads (they
    never change; 0: read every status from PostgreSQL). About 11 KB each with the
    encoded answer, so ~55 MB at the default."""
    quote_ttl_seconds: int = 900
    status_retry_after_seconds: int = 5
    intake_accept_timeout_seconds: float = 15.0
    """How long an order POST waits for the workflow to accept the order before a 503."""

    sandbox_latency_seconds: float = 1.0
    """Delay of each step of the sandbox provisioning backend."""
    sandbox_hang_seconds: float = 3600.0
    """How long a ``HANG`` trigger blocks the step (longer than its timeout)."""
    activity_timeout_seconds: float = 30.0
    activity_max_attempts: int = 5
    retry_initial_interval_seconds: float = 1.0
    parked_order_timeout_seconds: float = 72 * 3600.0
    """How long an order whose step kept failing waits for support before it FAILs."""

    webhook_allow_private_targets: bool = False
    webhook_require_https: bool = True
    webhook_retry_schedule_seconds: list[float] = Field(
        default_factory=lambda: [
            0.0,
            5.0,
            300.0,
            1800.0,
            7200.0,
            18000.0,
            36000.0,
            50400.0,
            72000.0,
            86400.0,
        ]
    )
    webhook_timeout_seconds: float = 10.0

    metrics_enabled: bool = False
    """Prometheus metrics: ``/metrics`` on the API, the SDK's metrics on the worker."""
    worker_metrics_address: str = "127.0.0.1:9464"
    tracing_exporter: Literal["none", "console", "otlp"] = "none"
    """OpenTelemetry tracing across API → workflow → activities (needs the extra ``tracing``)."""
    otlp_endpoint: str = "http://127.0.0.1:4318/v1/traces"
    service_name: str = "iod"

    seed_demo_data: bool | None = None
    """Load the demo customers and catalogue; ``iod dev`` does unless this is false."""
    log_level: str = "INFO"


@lru_cache
def get_settings() -> Settings:
    return Settings()

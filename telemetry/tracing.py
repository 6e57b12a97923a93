"""OpenTelemetry tracing: one trace from the API request through the workflow to activities.

FastAPI (0.160+) opens a server span per HTTP request by itself once an SDK tracer
provider is installed (honouring an incoming ``traceparent``); the Temporal SDK's
``TracingInterceptor`` (on the API's client and, through the worker's client, on the
worker) carries that context on in workflow and activity headers. Enabled by
``IOD_TRACING_EXPORTER`` (``console`` or ``otlp``), off by default. An SDK tracer
provider that is already installed (by a host application or a test) is used as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from temporalio.client import Interceptor

from config.settings import Settings

log = logging.getLogger(__name__)
_configured = False


def temporal_interceptors(settings: Settings) -> Sequence[Interceptor]:
    if settings.tracing_exporter == "none":
        return []
    _configure_provider(settings)
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def _configure_provider(settings: Settings) -> None:
    global _configured
    if _configured:
        return
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    if isinstance(trace.get_tracer_provider(), TracerProvider):
        _configured = True
        return
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )

    exporter: SpanExporter
    if settings.tracing_exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otlp_endpoint)
    else:
        exporter = ConsoleSpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _configured = True
    log.info("tracing to %s", settings.tracing_exporter)

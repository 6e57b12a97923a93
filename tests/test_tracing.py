"""OpenTelemetry tracing: one trace from the API request through the workflow to its activities."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from temporalio.client import Client

from api.main import create_app
from config.settings import Settings
from telemetry.tracing import temporal_interceptors
from tests.ordering import new_quote, order_body, place_order, wait_for_status
from worker.main import build_worker
from worker.temporal_client import connect_temporal

ORDER = "/Customer/v3/Ordering/orderRequest"


def _in_memory_spans() -> InMemorySpanExporter:
    """Install an SDK provider that keeps spans in memory (the code under test then uses it)."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


async def test_an_order_is_one_trace_from_the_request_to_its_activities(
    settings: Settings,
    pool: asyncpg.Pool,
    temporal_client: Client,
    http_client: httpx.AsyncClient,
    acme: dict[str, str],
) -> None:
    exporter = _in_memory_spans()
    traced = settings.model_copy(
        update={"tracing_exporter": "console", "task_queue": f"iod-traced-{uuid.uuid4().hex[:8]}"}
    )
    config = temporal_client.service_client.config
    client = await connect_temporal(
        config.target_host, temporal_client.namespace, interceptors=temporal_interceptors(traced)
    )
    app = create_app(traced, pool=pool, temporal=client)
    transport = httpx.ASGITransport(app=app)
    async with (
        build_worker(client, pool, http_client, traced),
        httpx.AsyncClient(transport=transport, base_url="http://traced") as api,
    ):
        created = await place_order(api, acme, order_body(await new_quote(api, acme)))
        assert (await wait_for_status(api, acme, created["id"]))["state"] == "SUCCEEDED"

    spans = exporter.get_finished_spans()
    exporter.shutdown()  # keeps nothing from the rest of the session
    (post,) = [s for s in spans if s.name == f"POST {ORDER}" and s.kind == SpanKind.SERVER]
    assert post.parent is None  # the request is the root of the order's trace
    assert post.attributes is not None
    assert post.attributes["http.response.status_code"] == 201
    assert post.context is not None
    same_trace = {s.name for s in spans if _trace_id(s) == post.context.trace_id}
    assert "StartUpdateWithStartWorkflow:OrderWorkflow" in same_trace
    assert "RunWorkflow:OrderWorkflow" in same_trace
    for step in ("accept_order", "fulfil_order", "complete_order"):
        assert f"RunActivity:{step}" in same_trace, sorted(same_trace)
    # The status polls are requests of their own, not part of the order's trace.
    polls = [s for s in spans if s.name == f"GET {ORDER}/{{order_request_id}}"]
    assert polls and all(_trace_id(s) != post.context.trace_id for s in polls)


def _trace_id(span: ReadableSpan) -> int | None:
    return span.context.trace_id if span.context is not None else None

"""Connecting to Temporal, the same way for the API, the worker and the CLI."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RetryConfig, RPCError, RPCStatusCode

from workflows.search_attributes import ALL_KEYS


async def connect_temporal(
    address: str,
    namespace: str,
    *,
    lazy: bool = False,
    interceptors: Sequence[Interceptor] = (),
    prometheus_address: str | None = None,
    retry_for_seconds: float | None = None,
) -> Client:
    """A client with the pydantic converter; optionally traced and exporting SDK metrics.

    ``retry_for_seconds`` bounds how long a call keeps retrying an unreachable server
    (the SDK's default is 10 s): the API answers 503 sooner rather than hold a request.
    """
    retry_config = (
        RetryConfig(max_elapsed_time_millis=int(retry_for_seconds * 1000))
        if retry_for_seconds is not None
        else None
    )
    runtime = None
    if prometheus_address:
        runtime = Runtime(
            telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=prometheus_address))
        )
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=pydantic_data_converter,
        lazy=lazy,
        interceptors=interceptors,
        runtime=runtime,
        retry_config=retry_config,
    )


async def ensure_search_attributes(client: Client) -> None:
    """Register the custom search attributes; already registered ones are left alone."""
    existing = await client.operator_service.list_search_attributes(_list_request(client.namespace))
    missing = {
        key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        for key in ALL_KEYS
        if key.name not in existing.custom_attributes
    }
    if not missing:
        return
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(search_attributes=missing, namespace=client.namespace)
        )
    except RPCError as err:
        if err.status != RPCStatusCode.ALREADY_EXISTS:
            raise


def _list_request(namespace: str) -> ListSearchAttributesRequest:
    return ListSearchAttributesRequest(namespace=namespace)

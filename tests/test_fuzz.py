"""Fuzz every operation of the OpenAPI document with schemathesis.

The document is loaded from the app (``openapi.from_asgi``), and the requests go to an
app built like the session's ``api`` fixture: real PostgreSQL, real Temporal dev server
and worker (see ``tests/fuzz_support.py`` for how). Every operation gets schemathesis'
examples, coverage (boundary and invalid values) and fuzzing phases, with valid and
invalid data, as the demo customer 1-ABCDE. Checks: no 5xx; status codes, content
types, headers and bodies as documented; invalid data refused, valid data not refused
with a 400; the token enforced; every 4xx/5xx in the problem format, the Service
Activation 2.3.1 dialect with its ``cause`` too.

Derandomized, so CI runs the same cases every time. ``IOD_FUZZ_EXAMPLES`` is the number
of fuzzing-phase examples per operation (default 40); for a longer hunt, e.g.
``IOD_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest tests/test_fuzz.py``, and
``IOD_FUZZ_SEED=<n>`` for other (random, reproducible by the seed) cases.
"""

from __future__ import annotations

import asyncio
import copy
import os
from collections.abc import AsyncIterator, Iterator, MutableMapping
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from temporalio.client import Client
from temporalio.worker import Worker

from api.main import create_app
from config.settings import Settings
from tests.fuzz_support import LoopBridge, problem_format, running_in_background
from tests.ordering import SEED_ORDER
from tests.problems import assert_problem

CUSTOMER = "1-ABCDE"
"""The demo customer of the ``acme`` token."""
EXAMPLES = int(os.environ.get("IOD_FUZZ_EXAMPLES", "40"))
SEED = os.environ.get("IOD_FUZZ_SEED")
"""Set: random cases from this seed instead of the derandomized ones (to hunt further)."""
SA_PREFIX = "/api/2.3.1/"
FEED_PATH = "/api/2.3.1/orderevents/"
MAX_WAIT = 1
"""The feed's long poll (``wait``) is capped at this many seconds, to keep the run short."""

CONFIG: dict[str, Any] = {
    **({"seed": int(SEED)} if SEED is not None else {}),
    "generation": {
        "mode": "all",
        "max-examples": EXAMPLES,
        "deterministic": SEED is None,
        "database": "none",
        # The token is the demo customer's; test_authorization_matrix covers bad ones.
        "with-security-parameters": False,
        # A NUL is refused 400 (api/problems.py), which no JSON schema here states:
        # test_nul_is_refused_400 below covers it.
        "allow-x00": False,
    },
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
    "checks": {
        # Schema-valid requests may still be refused 422: a site, quote or billing
        # account that does not exist, or cannot be used.
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
        },
    },
    "operations": [
        {
            # Rules no JSON schema states refuse schema-valid bodies 400, naming the
            # field: the order's product characteristics and what each action needs
            # (domain/order_request.py), the price request's fixed values, currency and
            # speed syntax (api/schemas/pricing.py), and every refusal of the Service
            # Activation dialect, which is a 400 with its `cause`.
            "include-name": [
                "POST /Customer/v3/Ordering/orderRequest",
                "POST /Customer/v4/Ordering/orderRequest",
                "POST /Product/v1/priceRequest",
                "POST /api/2.3.1/orders/",
                # And 400s that depend on the state: an unknown `since` event, a
                # callback host that does not resolve.
                "GET /api/2.3.1/orderevents/",
                "POST /hub",
                "POST /hub/{id}/redeliver",
            ],
            "checks": {"positive_data_acceptance": {"enabled": False}},
        }
    ],
}

# Until the session's app is connected, the bridge serves an app built the same way
# without a database or Temporal: enough to load the document at collection time.
BRIDGE = LoopBridge(
    create_app(Settings(), pool=cast(asyncpg.Pool, object()), temporal=cast(Client, object()))
)
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", BRIDGE, config=schemathesis.Config.from_dict(CONFIG)
)


@pytest.fixture(scope="session")
async def session_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


@pytest.fixture(scope="session")
async def fuzz_app(
    settings: Settings, pool: asyncpg.Pool, temporal_client: Client, worker: Worker
) -> AsyncIterator[FastAPI]:
    app = create_app(settings, pool=pool, temporal=temporal_client)
    client = BRIDGE.connect(app, asyncio.get_running_loop())
    yield app
    BRIDGE.disconnect()
    await client.aclose()


@pytest.fixture(scope="module")
async def fuzzed_subscriptions_removed(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> AsyncIterator[None]:
    """Webhook subscriptions the fuzzing creates are deleted afterwards (their
    deliveries stop, and later tests find the customer's usual few)."""
    before = {sub["id"] for sub in (await api.get("/hub", headers=acme)).json()}
    yield
    for sub in (await api.get("/hub", headers=acme)).json():
        if sub["id"] not in before:
            response = await api.delete(f"/hub/{sub['id']}", headers=acme)
            assert response.status_code == 204, response.text


@pytest.fixture
def session_loop_running(
    session_loop: asyncio.AbstractEventLoop,
    fuzz_app: FastAPI,
    acme: dict[str, str],
    fuzzed_subscriptions_removed: None,
) -> Iterator[None]:
    """The session loop runs in the background while the (synchronous) test runs."""
    with running_in_background(session_loop):
        yield


_problem_format = problem_format(with_cause=lambda case: case.path.startswith(SA_PREFIX))


@schema.parametrize()
@hypothesis_settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
def test_fuzz(
    case: schemathesis.Case[Any], session_loop_running: None, acme: dict[str, str]
) -> None:
    if case.path == FEED_PATH and isinstance(case.query, dict):
        _cap_wait(case.query)
    if case.path == "/hub" and case.method.upper() == "POST" and isinstance(case.body, dict):
        _keep_local(case.body)
    if isinstance(case.headers, MutableMapping) and "x-customer-number" in case.headers:
        # Any other value is a 403 (test_authorization_matrix): fuzz past it.
        case.headers["x-customer-number"] = CUSTOMER
    headers = acme if case.operation.definition.raw.get("security") else None
    case.call_and_validate(headers=headers, additional_checks=[_problem_format])


def _keep_local(body: dict[str, Any]) -> None:
    """A callback on a public host name (the documented example) is pointed at a closed
    local port instead: the fuzzing sends no webhook out of the machine."""
    callback = body.get("callback")
    if not isinstance(callback, str) or len(callback) > 1000:
        return
    try:
        url = urlsplit(callback)
        host = url.hostname
    except ValueError:
        return
    if url.scheme in ("http", "https") and host and "." in host and not host[0].isdigit():
        body["callback"] = urlunsplit(url._replace(netloc="127.0.0.1:9"))


def _cap_wait(query: dict[str, Any]) -> None:
    wait = query.get("wait")
    if isinstance(wait, int) and not isinstance(wait, bool) and wait > MAX_WAIT:
        query["wait"] = MAX_WAIT


async def test_the_fuzzed_document_is_the_apps(fuzz_app: FastAPI) -> None:
    assert fuzz_app.openapi() == schema.raw_schema


def test_every_documented_error_is_a_problem() -> None:
    """No FastAPI 422 HTTPValidationError: the errors documented are the ones answered,
    in the problem format (readiness excepted: its 503 is the readiness report)."""
    document = schema.raw_schema
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
            if path == "/readyz":
                assert set(errors) == {"503"}
                continue
            if path != "/healthz":
                assert "503" in errors, (method, path)
            if operation.get("security"):
                assert {"401", "403"} <= set(errors), (method, path)
            for code, response in errors.items():
                (media_type,) = response["content"]
                assert media_type == "application/problem+json", (method, path, code)
                ref = response["content"][media_type]["schema"]["$ref"]
                expected = "ServiceActivationProblem" if path.startswith(SA_PREFIX) else "Problem"
                if code not in ("400", "404"):
                    expected = "Problem"  # 401/403/503 come before the dialect's handler
                assert ref == f"#/components/schemas/{expected}", (method, path, code)


def _order_named(name: str) -> dict[str, Any]:
    body = copy.deepcopy(SEED_ORDER)
    body["productOrderItem"][0]["product"]["productCharacteristic"][0]["value"] = name
    return body


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/Customer/v3/Ordering/orderRequest", _order_named("My\u0000NaaS")),
        ("GET", "/Network/v1/location?partnerId=43%00558", None),
        ("GET", "/Product/v1/price?masterSiteId=PL%0001247634&productCode=718", None),
        ("GET", "/ProductInventory/v1/inventory?serviceId=77%00", None),
        ("GET", "/Product/v1/priceRequest/NaaS-%001", None),
        ("POST", "/hub", {"callback": "http://127.0.0.1:9/\u0000"}),
        (
            "POST",
            "/api/2.3.1/orders/",
            {
                "accessId": "NUL1",
                "service": "BB-100-10",
                "operation": "ACTIVATE",
                "forcedTakeover": False,
                "equipment": [],
                "spReference": "a\u0000b",
            },
        ),
    ],
)
async def test_nul_is_refused_400_never_500(
    api: httpx.AsyncClient,
    acme: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    """A NUL reaches no query, and no order is accepted with one (it would fail later, in
    the step that stores the service)."""
    response = await api.request(method, path, headers=acme, json=body)
    assert response.status_code in (400, 404), response.text
    assert_problem(response, response.status_code)

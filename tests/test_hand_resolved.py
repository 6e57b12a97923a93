"""The status lookup's route: FastAPI documents it, its parameters are resolved by hand."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, Request, Response

from api.deps import PrincipalDep
from api.hand_resolved import hand_resolved_get
from api.main import create_app
from config.settings import Settings


def _route(path: str, endpoint: Any) -> None:
    hand_resolved_get(APIRouter(), path)(endpoint)


async def _fine(order_id: str, principal: PrincipalDep, request: Request) -> Response:
    return Response(f"{principal.customer_number}/{order_id}/{request.url.path}")


def test_the_kinds_it_knows_are_accepted() -> None:
    _route("/x/{order_id}", _fine)


@pytest.mark.parametrize(
    "path, endpoint, problem",
    [
        ("/x", _fine, "order_id"),  # a str that is not in the path
        ("/x/{n}", lambda n, request: Response(), "n"),  # no annotations at all
    ],
)
def test_a_parameter_it_cannot_resolve_fails_when_the_route_is_built(
    path: str, endpoint: Any, problem: str
) -> None:
    with pytest.raises(TypeError, match=problem):
        _route(path, endpoint)


def test_an_endpoint_must_answer_a_response_itself() -> None:
    async def returns_a_dict(request: Request) -> dict[str, str]:
        return {}

    with pytest.raises(TypeError, match="Response"):
        _route("/x", returns_a_dict)


@pytest.mark.parametrize(
    "path, name",
    [
        ("/Customer/v3/Ordering/orderRequest/{order_request_id}", "order_request_id"),
        ("/Customer/v4/Ordering/operations/{operation_id}", "operation_id"),
    ],
)
def test_the_status_lookups_are_documented_like_any_other_route(path: str, name: str) -> None:
    app = create_app(Settings(database_url="postgresql://unused/x", temporal_address="x:1"))
    operation = app.openapi()["paths"][path]["get"]
    parameters = {(p["in"], p["name"]) for p in operation["parameters"]}
    assert parameters == {("path", name), ("header", "x-customer-number")}
    assert operation["security"] == [{"HTTPBearer": []}]
    assert {"200", "401", "403", "404"} <= set(operation["responses"])

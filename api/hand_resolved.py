"""A route for the hot read path: documented by FastAPI, its parameters resolved by hand.

FastAPI solves an endpoint's dependencies on every request: for the status lookup (a
memory lookup once an order is finished) that machinery cost more than the work: about
half of the request's CPU (benchmarks/README.md). A ``HandResolvedRoute`` keeps the
endpoint's signature, so the OpenAPI document is what FastAPI makes of it (the path
parameter, the bearer scheme and its ``x-customer-number`` header), but calls the endpoint
with values it takes from the request itself. It knows three kinds of parameter, and
refuses any other when the route is built, so a new parameter can't go silently unsolved:

* ``Request``: the request;
* ``PrincipalDep``: the caller, resolved by the same bearer scheme as every other route;
* ``str`` named in the path: the path parameter, as matched.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from fastapi import APIRouter, Request, Response
from fastapi.params import Depends
from fastapi.routing import APIRoute

from api.deps import Principal, get_principal

Resolver = Callable[[Request], Awaitable[Any]]
Endpoint = Callable[..., Awaitable[Response]]


async def _the_request(request: Request) -> Request:
    return request


async def _the_principal(request: Request) -> Principal:
    return await get_principal(request, request.headers.get("x-customer-number"))


def _path_parameter(name: str) -> Resolver:
    async def resolve(request: Request) -> str:
        value: str = request.path_params[name]
        return value

    return resolve


def hand_resolved_get(
    router: APIRouter, path: str, **options: Any
) -> Callable[[Endpoint], Endpoint]:
    """Like ``@router.get(path, **options)``, for a ``HandResolvedRoute``."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(
            path, endpoint, methods=["GET"], route_class_override=HandResolvedRoute, **options
        )
        return endpoint

    return register


class HandResolvedRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        resolvers = _resolvers(endpoint, self.path_format)

        async def handler(request: Request) -> Response:
            arguments = {name: await resolve(request) for name, resolve in resolvers.items()}
            response: Response = await endpoint(**arguments)
            return response

        return handler


def _resolvers(endpoint: Callable[..., Any], path: str) -> dict[str, Resolver]:
    hints = get_type_hints(endpoint, include_extras=True)
    resolvers: dict[str, Resolver] = {}
    for name in inspect.signature(endpoint).parameters:
        hint = hints.get(name)
        if hint is Request:
            resolvers[name] = _the_request
        elif _is_principal(hint):
            resolvers[name] = _the_principal
        elif hint is str and f"{{{name}}}" in path:
            resolvers[name] = _path_parameter(name)
        else:
            raise TypeError(f"{endpoint.__name__}: can't resolve parameter {name!r} by hand")
    if hints.get("return") is not Response:
        raise TypeError(f"{endpoint.__name__} must return a Response (nothing converts it)")
    return resolvers


def _is_principal(hint: Any) -> bool:
    if get_origin(hint) is not Annotated:
        return False
    base, *extras = get_args(hint)
    return base is Principal and any(
        isinstance(e, Depends) and e.dependency is get_principal for e in extras
    )

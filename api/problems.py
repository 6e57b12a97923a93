"""One error format for every 4xx and 5xx: RFC 9457 ``application/problem+json``.

Body: ``{type, title, status, detail, errors: [{code, message, field?}]}``. Raise
:class:`Problem` anywhere in the API; request validation errors, HTTP errors and
unexpected exceptions are all turned into it by :func:`install_problem_handlers`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from temporalio.service import RPCError, RPCStatusCode

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ErrorItem(BaseModel):
    code: str
    message: str
    field: str | None = None


class ProblemBody(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[ErrorItem] = []


class Problem(Exception):
    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Sequence[ErrorItem] = (),
        title: str | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, object] | None = None,
    ) -> None:
        super().__init__(detail)
        self.extensions = extensions or {}
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.title = title or HTTPStatus(status).phrase
        self.headers = headers or {}


def field_error(status: int, field: str, code: str, message: str) -> Problem:
    """A problem about one input field, the most common case."""
    return Problem(status, message, errors=[ErrorItem(code=code, message=message, field=field)])


def not_found(what: str, field: str | None = None) -> Problem:
    return Problem(
        404,
        f"{what} was not found",
        errors=[ErrorItem(code="not_found", message=f"{what} was not found", field=field)],
    )


def problem_response(problem: Problem) -> JSONResponse:
    body = ProblemBody(
        title=problem.title, status=problem.status, detail=problem.detail, errors=problem.errors
    )
    return JSONResponse(
        {**body.model_dump(mode="json", exclude_none=False), **problem.extensions},
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


def field_path(loc: Sequence[str | int]) -> str | None:
    """``("body", "productOrderItem", 0, "quantity")`` → ``productOrderItem[0].quantity``."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "header", "path", "cookie"):
        parts = parts[1:]
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.startswith("function-after[") or part.startswith("function-"):
            continue
        else:
            text += f".{part}" if text else part
    return text or None


_PYDANTIC_CODES = {"missing": "required", "json_invalid": "invalid_json"}


def validation_problem(errors: Sequence[Any]) -> Problem:
    items = []
    for err in errors:
        message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        code = _PYDANTIC_CODES.get(err.get("type", ""), err.get("type", "invalid"))
        items.append(ErrorItem(code=code, message=message, field=field_path(err.get("loc", ()))))
    named = ", ".join(sorted({i.field for i in items if i.field}))
    detail = f"The request is invalid: {named}" if named else "The request is invalid"
    return Problem(400, detail, errors=items)


DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,  # no connection (refused, no socket, timeouts)
    asyncpg.PostgresConnectionError,  # the connection failed or was closed
    asyncpg.InterfaceError,  # a connection that is already closed
    asyncpg.CannotConnectNowError,  # the server is starting up or shutting down
    asyncpg.AdminShutdownError,  # the server is shutting down: sessions terminated
    asyncpg.CrashShutdownError,  # another server process crashed
    asyncpg.TooManyConnectionsError,
    # The server went away in the middle of an exchange, e.g. while the pool resets a
    # connection on release: asyncpg's protocol state is broken (MagicStack/asyncpg#784)
    # and the pool terminates that connection.
    asyncpg.InternalClientError,
)
"""What PostgreSQL being down or restarting looks like: answered 503, never 500."""


def temporal_unreachable(exc: BaseException) -> bool:
    """A Temporal client that is not connected yet (the API connects lazily) and cannot
    connect raises the SDK core's bare ``RuntimeError("Failed client connect: …")`` on
    every call, not an :class:`RPCError`; it connects on a later call once it can."""
    return isinstance(exc, RuntimeError) and str(exc).startswith("Failed client connect")


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(validation_problem(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(Problem(exc.status_code, str(exc.detail), headers=headers))

    @app.exception_handler(asyncpg.CharacterNotInRepertoireError)
    @app.exception_handler(asyncpg.UntranslatableCharacterError)
    async def _unstorable(_: Request, exc: asyncpg.DataError) -> JSONResponse:
        return problem_response(unstorable_character())

    @app.exception_handler(RPCError)
    async def _temporal(_: Request, exc: RPCError) -> JSONResponse:
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            log.warning("workflow service unavailable: %s", exc.message)
            return problem_response(service_unavailable("the workflow service"))
        log.error("workflow service error: %s (%s)", exc.message, exc.status)
        return problem_response(Problem(500, "An internal error occurred"))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, DATABASE_UNAVAILABLE):
            log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
            return problem_response(service_unavailable("the database"))
        if temporal_unreachable(exc):
            log.warning("workflow service unreachable: %s", exc)
            return problem_response(service_unavailable("the workflow service"))
        log.exception("unhandled error")
        return problem_response(Problem(500, "An internal error occurred"))


def unstorable_character() -> Problem:
    """A string PostgreSQL refuses to store or compare, such as one with a NUL
    (``\\u0000``), in a parameter or the body: malformed input, answered 400."""
    message = "a value contains a character that cannot be stored, such as NUL (\\u0000)"
    return Problem(
        400,
        f"The request is invalid: {message}",
        errors=[ErrorItem(code="invalid_character", message=message)],
    )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at the request's path. (Starlette's 405 names
    only the methods of the first route with that path, e.g. ``POST`` for ``/hub``.)"""
    routes = request.app.router.routes

    def answered(method: str) -> bool:
        scope = {**request.scope, "method": method}
        return any(route.matches(scope)[0] == Match.FULL for route in routes)

    return [method for method in _METHODS if answered(method)]


def service_unavailable(what: str, retry_after: int = 5) -> Problem:
    return Problem(
        503,
        f"{what} is temporarily unavailable; retry later",
        errors=[ErrorItem(code="unavailable", message=f"{what} is unavailable")],
        headers={"Retry-After": str(retry_after)},
    )

"""The OpenAPI document, truthful about errors.

FastAPI documents a ``422 HTTPValidationError`` for every operation with parameters;
this API answers request validation errors ``400`` in the problem format instead
(:mod:`api.problems`). :func:`install_openapi` rewrites the generated document so that
every operation lists the errors it really answers, all ``application/problem+json``
with the shared ``Problem`` schema:

* ``400`` where the request can be invalid (a body, a required or constrained parameter);
* ``401`` and ``403`` where a bearer token is needed (``x-customer-number`` mismatch);
* ``503`` where PostgreSQL or Temporal is needed (every operation but those marked
  :data:`NO_BACKEND`);
* and what each route declares with :func:`problems` / :func:`sa_problems` (404, 409,
  422, or the Service Activation 2.3.1 dialect with its ``cause`` member).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI

from api.problems import PROBLEM_MEDIA_TYPE

PROBLEM = "Problem"
ERROR_ITEM = "ProblemError"
SA_PROBLEM = "ServiceActivationProblem"

_BACKEND_EXTENSION = "x-iod-backend"
NO_BACKEND: dict[str, Any] = {_BACKEND_EXTENSION: False}
"""``openapi_extra`` of an operation that needs neither PostgreSQL nor Temporal (no 503)."""

_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

_SCHEMAS: dict[str, dict[str, Any]] = {
    ERROR_ITEM: {
        "title": "ProblemError",
        "type": "object",
        "description": "One thing wrong with the request.",
        "properties": {
            "code": {"type": "string", "description": "Machine-readable reason"},
            "message": {"type": "string", "description": "Human-readable explanation"},
            "field": {
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "description": "The input it is about, e.g. `productOrderItem[0].quantity`, "
                "a query parameter or a header name; null when not about one input",
            },
        },
        "required": ["code", "message"],
    },
    PROBLEM: {
        "title": "Problem",
        "type": "object",
        "description": "RFC 9457 problem details, the format of every 4xx and 5xx answer.",
        "properties": {
            "type": {"type": "string", "description": "Always `about:blank`"},
            "title": {"type": "string", "description": "The HTTP status phrase"},
            "status": {"type": "integer", "description": "The HTTP status code"},
            "detail": {"type": "string", "description": "What went wrong"},
            "errors": {
                "type": "array",
                "items": {"$ref": f"#/components/schemas/{ERROR_ITEM}"},
                "description": "Each problem found, most often one per input field",
            },
        },
        "required": ["type", "title", "status", "detail", "errors"],
    },
    SA_PROBLEM: {
        "title": "ServiceActivationProblem",
        "description": "The Service Activation API 2.3.1 error: a problem with the "
        "dialect's `cause` member (the same text as `detail`).",
        "allOf": [
            {"$ref": f"#/components/schemas/{PROBLEM}"},
            {
                "type": "object",
                "properties": {"cause": {"type": "string", "description": "What went wrong"}},
                "required": ["cause"],
            },
        ],
    },
}

_DEFAULT_DESCRIPTIONS = {
    400: "The request is invalid: each error names its `field`",
    401: "No bearer token, or an invalid or expired one",
    403: "`x-customer-number` is not the token's customer number",
    503: "PostgreSQL or the workflow service is unavailable; retry after `Retry-After`",
}

_WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": "The authentication scheme to use",
        "required": True,
        "schema": {"type": "string"},
    }
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "string"},
    }
}


def _response(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def problems(described: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route: the problems it answers besides the shared ones, e.g.
    ``problems({404: "No partner with that id"})``."""
    return {status: _response(text, PROBLEM) for status, text in described.items()}


def sa_problems(described: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """Like :func:`problems`, in the Service Activation 2.3.1 dialect (with ``cause``)."""
    return {status: _response(text, SA_PROBLEM) for status, text in described.items()}


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and ``/openapi.json``) document the real error answers."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    rewritten: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = generate()  # cached by FastAPI until the routes change
        if not any(document is done for done in rewritten):
            document_errors(document)
            rewritten[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def document_errors(document: dict[str, Any]) -> None:
    """Rewrite a FastAPI-generated document in place (see the module docstring)."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _hoist_defs(document, schemas)
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in _HTTP_METHODS:
                _document_operation(operation)
                for callback in operation.get("callbacks", {}).values():
                    for callback_item in callback.values():
                        for callback_method, callback_op in callback_item.items():
                            if callback_method in _HTTP_METHODS:
                                _drop_validation_error(callback_op)
    if not _references(document, "HTTPValidationError"):
        schemas.pop("HTTPValidationError", None)
        if not _references(document, "ValidationError"):
            schemas.pop("ValidationError", None)
    schemas.update(_SCHEMAS)


def _document_operation(operation: dict[str, Any]) -> None:
    _drop_validation_error(operation)
    _dedupe_parameters(operation)
    responses: dict[str, Any] = operation.setdefault("responses", {})
    backend = operation.pop(_BACKEND_EXTENSION, True)
    parameters = operation.get("parameters", [])
    shared: list[int] = []
    if "requestBody" in operation or any(_can_be_invalid(p) for p in parameters):
        shared.append(400)
    if operation.get("security"):
        shared.append(401)
    if any(p.get("in") == "header" and p.get("name") == "x-customer-number" for p in parameters):
        shared.append(403)
    if backend:
        shared.append(503)
    for status in shared:
        responses.setdefault(str(status), _response(_DEFAULT_DESCRIPTIONS[status], PROBLEM))
    for code, headers in (("401", _WWW_AUTHENTICATE), ("503", _RETRY_AFTER)):
        if PROBLEM_MEDIA_TYPE in responses.get(code, {}).get("content", {}):
            responses[code].setdefault("headers", {}).update(headers)
    operation["responses"] = dict(sorted(responses.items()))


def _dedupe_parameters(operation: dict[str, Any]) -> None:
    """A parameter a route declares again in ``openapi_extra`` replaces the generated one
    (FastAPI appends it), e.g. a header a dependency takes as optional but the route needs."""
    parameters = operation.get("parameters")
    if not parameters:
        return
    last = {(p.get("in"), p.get("name")): p for p in parameters}
    seen: set[tuple[Any, Any]] = set()
    deduped = []
    for parameter in parameters:
        key = (parameter.get("in"), parameter.get("name"))
        if key not in seen:
            seen.add(key)
            deduped.append(last[key])
    operation["parameters"] = deduped


def _hoist_defs(document: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Inline JSON schemas (``Model.model_json_schema()`` in ``openapi_extra``) carry their
    own ``$defs`` with ``#/$defs/…`` references, which mean nothing in the document:
    move those definitions to the components and point the references there."""

    def visit(node: Any) -> Any:
        if isinstance(node, dict):
            for name, definition in node.pop("$defs", {}).items():
                schemas.setdefault(name, visit(definition))
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                node["$ref"] = "#/components/schemas/" + ref.removeprefix("#/$defs/")
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)
        return node

    visit(document.get("paths", {}))


def _drop_validation_error(operation: dict[str, Any]) -> None:
    responses = operation.get("responses", {})
    if _references(responses.get("422", {}), "HTTPValidationError"):
        del responses["422"]


_CONSTRAINTS = {
    "minLength",
    "maxLength",
    "pattern",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "format",
}


def _can_be_invalid(parameter: Mapping[str, Any]) -> bool:
    """A parameter the request can get wrong: a required query/header/cookie parameter,
    or one whose schema is more than any string. (A path parameter is an id: one that
    does not parse is not found, 404.)"""
    if parameter.get("required") and parameter.get("in") != "path":
        return True
    return _constrained(parameter.get("schema", {}))


def _constrained(schema: Any) -> bool:
    if not isinstance(schema, Mapping):
        return False
    if _CONSTRAINTS & schema.keys():
        return True
    kind = schema.get("type")
    if kind is not None and kind not in ("string", "null"):
        return True
    alternatives = schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", [])
    return any(_constrained(alternative) for alternative in alternatives)


def _references(node: Any, schema: str) -> bool:
    target = f"#/components/schemas/{schema}"
    if isinstance(node, Mapping):
        return node.get("$ref") == target or any(_references(v, schema) for v in node.values())
    if isinstance(node, list):
        return any(_references(v, schema) for v in node)
    return False

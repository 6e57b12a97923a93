"""Assertions on the problem format shared by every test."""

from __future__ import annotations

import httpx


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> dict:  # type: ignore[type-arg]
    """The response is a problem with ``status``; when ``field`` is given, an error names it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert isinstance(body["errors"], list)
    for item in body["errors"]:
        assert item["code"] and item["message"]
    if field is not None:
        fields = [item.get("field") for item in body["errors"]]
        assert field in fields, f"no error names {field!r}: {body['errors']}"
    return body  # type: ignore[no-any-return]

"""The document groups the operations under tags in a reading order of their own."""

from __future__ import annotations

import httpx

from api.main import DOCUMENTED_TAGS


async def test_every_operation_is_under_a_documented_tag(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    used = {
        tag
        for path_item in document["paths"].values()
        for operation in path_item.values()
        if isinstance(operation, dict)
        for tag in operation.get("tags", [])
    }
    names = [tag["name"] for tag in document["tags"]]
    assert names == [tag["name"] for tag in DOCUMENTED_TAGS]
    assert used == set(names)

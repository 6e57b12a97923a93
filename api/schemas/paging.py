"""The ``pageNumber`` / ``pageSize`` query parameters of the listings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from domain.catalog import MAX_PAGE_NUMBER, MAX_PAGE_SIZE, PageRequest

PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE_NUMBER, description="Page to return, from 1")]
PageSize = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, at most {MAX_PAGE_SIZE}")
]


def page_of(number: int, size: int) -> PageRequest:
    return PageRequest(number=number, size=size)

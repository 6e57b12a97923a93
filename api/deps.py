"""Dependencies shared by the routers, gathered as ``Annotated`` aliases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import asyncpg
from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from temporalio.client import Client

from api.problems import ErrorItem, Problem
from api.token_cache import TokenOwnerCache
from config.settings import Settings
from domain.secrets import token_digest
from store import clients


class Principal(BaseModel):
    """The authenticated API client and the one customer it acts for."""

    client_id: str
    customer_number: str


# The app's own objects, from ``app.state``. Plain ``async def`` so that FastAPI calls
# them on the event loop (a ``def`` dependency would be sent to the thread pool), and no
# ``dependency_overrides`` are needed: with any override set, FastAPI re-analyses every
# sub-dependency's signature on every request, which profiled as most of a status read.


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


async def get_temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
TemporalDep = Annotated[Client, Depends(get_temporal)]

_bearer = HTTPBearer(auto_error=False, description="OAuth2 access token from /oauth/v2/token")


def _unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        detail,
        errors=[ErrorItem(code="unauthorized", message=detail, field="Authorization")],
        headers={"WWW-Authenticate": 'Bearer realm="iod"'},
    )


async def get_token_cache(request: Request) -> TokenOwnerCache:
    cache: TokenOwnerCache = request.app.state.token_cache
    return cache


async def get_principal(
    pool: PoolDep,
    cache: Annotated[TokenOwnerCache, Depends(get_token_cache)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    x_customer_number: Annotated[
        str | None,
        Header(description="Optional; when present it must be the token's customer number"),
    ] = None,
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("A bearer access token is required")
    digest = token_digest(credentials.credentials)
    owner = cache.get(digest)
    if owner is None:
        async with pool.acquire() as conn:
            owner = await clients.find_token_owner(conn, digest)
        if owner is not None:
            cache.put(digest, owner)
    if owner is None:
        raise _unauthorized("The access token is invalid")
    if owner.expires_at <= datetime.now(UTC):
        raise _unauthorized("The access token has expired; request a new one")
    if x_customer_number is not None and x_customer_number != owner.customer_number:
        raise Problem(
            403,
            "This client may not act for that customer number",
            errors=[
                ErrorItem(
                    code="forbidden_customer",
                    message="x-customer-number does not match the client's customer",
                    field="x-customer-number",
                )
            ],
        )
    return Principal(client_id=owner.client_id, customer_number=owner.customer_number)


PrincipalDep = Annotated[Principal, Depends(get_principal)]

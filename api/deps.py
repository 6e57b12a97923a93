"""Dependencies shared by the routers, gathered as ``Annotated`` aliases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import asyncpg
from fastapi import Depends, Header, Request
from fastapi.security import HTTPBearer
from starlette.datastructures import State
from temporalio.client import Client

from api.finished_orders import FinishedOrders
from api.problems import ErrorItem, Problem
from api.token_cache import TokenOwnerCache
from config.settings import Settings
from domain.secrets import token_digest
from store import clients


@dataclass(frozen=True, slots=True)
class Principal:
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


class Services:
    """The app's long-lived objects, typed, straight from ``request.app.state``.

    For the paths clients poll (order status): there each dependency would cost FastAPI
    more than the work it stands for (~10 µs per dependency, a tenth of a cached status
    read), so those routes take the ``Request`` and call ``Services.of(request)``.
    """

    __slots__ = ("_state",)

    def __init__(self, state: State) -> None:
        self._state = state

    @classmethod
    def of(cls, request: Request) -> Services:
        return cls(request.app.state)

    @property
    def settings(self) -> Settings:
        settings: Settings = self._state.settings
        return settings

    @property
    def pool(self) -> asyncpg.Pool:
        pool: asyncpg.Pool = self._state.pool
        return pool

    @property
    def finished_orders(self) -> FinishedOrders:
        finished: FinishedOrders = self._state.finished_orders
        return finished


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
TemporalDep = Annotated[Client, Depends(get_temporal)]


def _unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        detail,
        errors=[ErrorItem(code="unauthorized", message=detail, field="Authorization")],
        headers={"WWW-Authenticate": 'Bearer realm="iod"'},
    )


class BearerPrincipal(HTTPBearer):
    """The bearer-token security scheme (documented as ``HTTPBearer``) that also resolves
    who is calling: one dependency on every authenticated request instead of two."""

    async def __call__(  # type: ignore[override]
        self,
        request: Request,
        x_customer_number: Annotated[
            str | None,
            Header(description="Optional; when present it must be the token's customer number"),
        ] = None,
    ) -> Principal:
        credentials = await super().__call__(request)
        if credentials is None:
            raise _unauthorized("A bearer access token is required")
        # The pool and the token cache straight from app.state: this runs on every
        # request, and each sub-dependency costs FastAPI more than the lookup itself.
        cache: TokenOwnerCache = request.app.state.token_cache
        digest = token_digest(credentials.credentials)
        owner = cache.get(digest)
        if owner is None:
            pool: asyncpg.Pool = request.app.state.pool
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


get_principal = BearerPrincipal(
    auto_error=False,
    scheme_name="HTTPBearer",
    description="OAuth2 access token from /oauth/v2/token",
)

PrincipalDep = Annotated[Principal, Depends(get_principal)]

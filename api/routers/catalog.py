"""Seed 001 steps 1 and 2: the partners (providers) and their NaaS-enabled locations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import PoolDep, PrincipalDep
from api.openapi import problems
from api.problems import not_found
from api.schemas.catalog import LocationList, LocationOut, Pagination, PartnerOut, ProviderList
from api.schemas.paging import PageNumber, PageSize, page_of
from store import catalog

router = APIRouter(tags=["Catalogue"])


@router.get("/Network/v1/provider", summary="Find providers (partners)")
async def list_providers(
    _principal: PrincipalDep,
    pool: PoolDep,
    pageNumber: PageNumber = 1,
    pageSize: PageSize = 10,
) -> ProviderList:
    """The data-centre and cloud partners connected to the network; their `id` is the
    `partnerId` of `GET /Network/v1/location`."""
    page = page_of(pageNumber, pageSize)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        partners, total = await catalog.list_partners(conn, page)
    return ProviderList(
        pagination=[Pagination(pageNumber=page.number, pageSize=page.size, totalRecords=total)],
        listPartners=[PartnerOut.of(p) for p in partners],
    )


@router.get(
    "/Network/v1/location",
    summary="Browse a partner's locations",
    responses=problems({404: "No partner with that `partnerId`"}),
)
async def list_locations(
    _principal: PrincipalDep,
    pool: PoolDep,
    partnerId: Annotated[
        str, Query(min_length=1, max_length=64, description="A partner `id` from step 1")
    ],
    pageNumber: PageNumber = 1,
    pageSize: PageSize = 10,
) -> LocationList:
    """The partner's NaaS-enabled locations by `masterSiteId`, each with its network status,
    market and the speeds it offers. The `masterSiteId` is what pricing needs."""
    page = page_of(pageNumber, pageSize)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        if await catalog.get_partner(conn, partnerId) is None:
            raise not_found(f"Partner {partnerId}", "partnerId")
        locations, total = await catalog.list_locations(conn, partnerId, page)
        speeds = await catalog.speeds_at(conn, [loc.master_site_id for loc in locations])
    return LocationList(
        pagination=[Pagination(pageNumber=page.number, pageSize=page.size, totalRecords=total)],
        location=[LocationOut.with_speeds(loc, speeds[loc.master_site_id]) for loc in locations],
    )

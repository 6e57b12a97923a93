"""Seed 001 step 5: the caller's billing accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query

from api.deps import PoolDep, PrincipalDep
from api.openapi import problems
from api.problems import field_error
from api.schemas.billing import BillingAccountList, BillingAccountOut
from api.schemas.paging import PageNumber, PageSize, page_of
from domain.catalog import US_COUNTRY_CODE, supported_country_code
from domain.money import CurrencyError, supported_currency
from store import billing

router = APIRouter(tags=["Billing accounts"])


@router.get(
    "/Account/v1/billingAccount",
    summary="Find your billing accounts",
    responses=problems(
        {
            400: "`x-customer-number` missing, an unsupported `countryCode` or `currencyCode`, "
            "or an invalid parameter"
        }
    ),
    openapi_extra={
        "parameters": [
            {
                "name": "x-customer-number",
                "in": "header",
                "required": True,
                "description": "Required here: your customer number (the token's)",
                "schema": {"type": "string", "examples": ["1-ABCDE"]},
            }
        ]
    },
)
async def list_billing_accounts(
    principal: PrincipalDep,
    pool: PoolDep,
    x_customer_number: Annotated[
        str | None, Header(description="Required here: your customer number")
    ] = None,
    entitled: Annotated[
        bool | None, Query(description="`true`: only accounts with platform entitlement")
    ] = None,
    countryCode: Annotated[
        str | None,
        Query(
            max_length=8,
            json_schema_extra={"pattern": rf"^\s*{US_COUNTRY_CODE}\s*$"},
            description=f"`{US_COUNTRY_CODE}` (the US) is the only one supported",
        ),
    ] = None,
    currencyCode: Annotated[
        str | None,
        Query(
            max_length=8,
            json_schema_extra={"pattern": r"^\s*[Uu][Ss][Dd]\s*$"},
            description="`USD` (not case-sensitive) is the only one supported",
        ),
    ] = None,
    pageNumber: PageNumber = 1,
    pageSize: PageSize = 10,
) -> BillingAccountList:
    """Your billing accounts, headquartered in the US or not: Internet On-Demand orders
    need one with `hqCountry` `US`."""
    if x_customer_number is None:
        raise field_error(
            400, "x-customer-number", "required", "the x-customer-number header is required"
        )
    filters = billing.AccountFilter(entitled=entitled)
    if countryCode is not None:
        try:
            filters.country_code = supported_country_code(countryCode)
        except ValueError as err:
            raise field_error(400, "countryCode", "unsupported_country_code", str(err)) from None
    if currencyCode is not None:
        try:
            filters.currency = supported_currency(currencyCode)
        except CurrencyError as err:
            raise field_error(400, "currencyCode", "unsupported_currency", str(err)) from None
    page = page_of(pageNumber, pageSize)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        accounts, total = await billing.list_billing_accounts(
            conn, principal.customer_number, filters, page
        )
    return BillingAccountList(
        billingAccount=[BillingAccountOut.of(a) for a in accounts],
        pageNumber=page.number,
        pageSize=page.size,
        resultCount=total,
    )

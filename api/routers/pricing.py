"""Seed 001 steps 3 and 4: prices per speed at a site, and priced quotes (``NaaS-<n>``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.deps import PoolDep, PrincipalDep, SettingsDep
from api.openapi import problems
from api.problems import ErrorItem, Problem, field_error, not_found
from api.schemas.catalog import LocationAddress
from api.schemas.pricing import PriceList, PricePerSpeed, PriceRequestBody, QuoteOut, QuotePrice
from domain.catalog import HOURLY_TERM, MONTHLY_TERM, PRODUCT_CODE, parse_speed
from domain.money import format_money, monthly_rate, supported_currency
from store import catalog, quotes
from store.conn import Conn

router = APIRouter(tags=["Pricing"])

PRICE_REQUEST_PATH = "/Product/v1/priceRequest"


@router.get(
    "/Product/v1/price",
    summary="Qualify: prices per speed at a location",
    responses=problems({404: "Unknown `productCode`, or not a NaaS-enabled location"}),
)
async def get_prices(
    _principal: PrincipalDep,
    pool: PoolDep,
    masterSiteId: Annotated[
        str, Query(min_length=1, max_length=64, description="A location from step 2")
    ],
    productCode: Annotated[
        str, Query(min_length=1, max_length=16, description=f"Always `{PRODUCT_CODE}`")
    ],
) -> PriceList:
    """The speeds offered at the location with their hourly rates."""
    if productCode != PRODUCT_CODE:
        raise not_found(f"Product {productCode}", "productCode")
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        location = await catalog.get_location(conn, masterSiteId)
        if location is None or not location.naas_enabled:
            raise not_found(f"NaaS location {masterSiteId}", "masterSiteId")
        speeds = (await catalog.speeds_at(conn, [masterSiteId]))[masterSiteId]
    return PriceList(
        location=[LocationAddress.of(location)],
        pricePerSpeed=[
            PricePerSpeed(
                speed=s.speed,
                price=format_money(s.hourly_rate),
                term=HOURLY_TERM,
                displayValue=s.display_value,
            )
            for s in speeds
        ],
    )


@router.post(
    PRICE_REQUEST_PATH,
    status_code=201,
    summary="Pricing: request a quote",
    responses={
        201: {"headers": {"Location": {"description": "The quote"}}},
        **problems(
            {
                403: "`customerNumber` is not your customer number",
                422: "The site, partner or speed is not offered (`unknown_site`, "
                "`unknown_partner`, `partner_mismatch`, `speed_not_offered`)",
            }
        ),
    },
)
async def create_price_request(
    body: PriceRequestBody,
    principal: PrincipalDep,
    pool: PoolDep,
    settings: SettingsDep,
    response: Response,
) -> QuoteOut:
    """Prices one speed at one site and returns the quote id to order with. The quote is
    valid for 15 minutes (`expiresAt`) and can be used for one order."""
    if body.customerNumber != principal.customer_number:
        raise field_error(
            403,
            "customerNumber",
            "forbidden_customer",
            f"you may only request prices for your own customer number "
            f"({principal.customer_number})",
        )
    speed = parse_speed(body.speed)
    async with pool.acquire() as conn, conn.transaction():
        offer = await _offer(conn, body, speed.canonical)
        quote = await quotes.create_quote(
            conn,
            quotes.NewQuote(
                customer_number=principal.customer_number,
                master_site_id=body.masterSiteId,
                partner_id=body.partnerId,
                product_code=body.productCode,
                speed=offer.speed,
                currency_code=supported_currency(body.currencyCode),
                hourly_rate=offer.hourly_rate,
                monthly_rate=monthly_rate(offer.hourly_rate),
                price_request=body.echo(),
            ),
            settings.quote_ttl_seconds,
        )
    response.headers["Location"] = f"{PRICE_REQUEST_PATH}/{quote.id}"
    return _quote_out(quote)


@router.get(
    f"{PRICE_REQUEST_PATH}/{{id}}",
    summary="Look up one of your quotes",
    responses=problems({404: "No quote of yours with that id"}),
)
async def get_price_request(
    quote_id: Annotated[str, Path(alias="id", max_length=64)],
    principal: PrincipalDep,
    pool: PoolDep,
) -> QuoteOut:
    """The quote as it was returned, with its expiry. Only your own quotes are found."""
    async with pool.acquire() as conn:
        quote = await quotes.get_own_quote(conn, principal.customer_number, quote_id)
    if quote is None:
        raise not_found(f"Quote {quote_id}", "id")
    return _quote_out(quote)


async def _offer(conn: Conn, body: PriceRequestBody, speed: str) -> catalog.LocationSpeed:
    """The site's offer of the speed, or a 422 naming every field that does not fit."""
    errors: list[ErrorItem] = []
    location = await catalog.get_location(conn, body.masterSiteId)
    if location is None or not location.naas_enabled:
        errors.append(
            ErrorItem(
                code="unknown_site",
                message=f"{body.masterSiteId} is not a NaaS-enabled location",
                field="masterSiteId",
            )
        )
    partner = await catalog.get_partner(conn, body.partnerId)
    if partner is None:
        errors.append(
            ErrorItem(
                code="unknown_partner",
                message=f"partner {body.partnerId} is not known",
                field="partnerId",
            )
        )
    elif location is not None and location.partner_id != partner.id:
        errors.append(
            ErrorItem(
                code="partner_mismatch",
                message=f"{body.masterSiteId} is a location of partner {location.partner_id}, "
                f"not {partner.id}",
                field="partnerId",
            )
        )
    offer = None
    if location is not None and location.naas_enabled:
        offer = await catalog.get_speed(conn, location.master_site_id, speed)
        if offer is None:
            offered = (await catalog.speeds_at(conn, [location.master_site_id]))[
                location.master_site_id
            ]
            choices = ", ".join(s.speed for s in offered) or "none"
            errors.append(
                ErrorItem(
                    code="speed_not_offered",
                    message=f"{speed} is not offered at {location.master_site_id} "
                    f"(offered: {choices})",
                    field="speed",
                )
            )
    if errors or offer is None:
        fields = ", ".join(e.field for e in errors if e.field)
        raise Problem(422, f"The price request cannot be priced: {fields}", errors=errors)
    return offer


def _quote_out(quote: quotes.Quote) -> QuoteOut:
    return QuoteOut(
        id=quote.id,
        priceRequest=quote.price_request,
        price=[
            QuotePrice(
                speed=quote.speed,
                price=format_money(quote.hourly_rate, quote.currency_code),
                term=HOURLY_TERM,
            ),
            QuotePrice(
                speed=quote.speed,
                price=format_money(quote.monthly_rate, quote.currency_code),
                term=MONTHLY_TERM,
            ),
        ],
        expiresAt=quote.expires_at,
    )

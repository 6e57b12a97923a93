"""Steps 3 and 4 of seed 001: prices per speed at a location, and priced quotes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas.catalog import LocationAddress
from domain.catalog import PRODUCT_CODE, SOURCE_SYSTEM, parse_speed
from domain.money import supported_currency

Text = Annotated[str, Field(min_length=1, max_length=64)]
Note = Annotated[str | None, Field(max_length=255)]


class PricePerSpeed(BaseModel):
    speed: str
    price: str
    term: str
    displayValue: str


class PriceList(BaseModel):
    location: list[LocationAddress]
    pricePerSpeed: list[PricePerSpeed]


class PriceRequestBody(BaseModel):
    """The seed's request body. Every required property is checked here (400 naming it);
    whether the site, partner and speed exist is checked against the catalogue (422)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    sourceSystem: Text = Field(description=f"Always `{SOURCE_SYSTEM}`")
    customerPriceRequestDescription: Note = None
    customerPurchaseOrderNumber: Note = None
    customerNumber: Text = Field(description="Your customer number (BusOrg), e.g. `1-ABCDE`")
    currencyCode: Text = Field(description="`USD` (not case-sensitive)")
    masterSiteId: Text = Field(description="From `GET /Network/v1/location`")
    productCode: Text = Field(description=f"Always `{PRODUCT_CODE}`")
    partnerId: Text = Field(description="The site's partner, from `GET /Network/v1/provider`")
    productName: Note = None
    speed: Text = Field(description="A speed offered at the site, e.g. `100 Mbps` or `1 Gbps`")

    @field_validator("sourceSystem")
    @classmethod
    def _source_system(cls, value: str) -> str:
        if value != SOURCE_SYSTEM:
            raise ValueError(f"sourceSystem must be '{SOURCE_SYSTEM}'")
        return value

    @field_validator("currencyCode")
    @classmethod
    def _currency(cls, value: str) -> str:
        supported_currency(value)
        return value

    @field_validator("productCode")
    @classmethod
    def _product(cls, value: str) -> str:
        if value != PRODUCT_CODE:
            raise ValueError(f"productCode must be '{PRODUCT_CODE}' (Internet On-Demand)")
        return value

    @field_validator("speed")
    @classmethod
    def _speed(cls, value: str) -> str:
        parse_speed(value)
        return value

    def echo(self) -> dict[str, Any]:
        """The request as the response repeats it (optional properties only when sent)."""
        return self.model_dump(exclude_unset=True)


class QuotePrice(BaseModel):
    speed: str
    price: str
    term: str


class QuoteOut(BaseModel):
    id: str = Field(description="The quote id, `NaaS-<n>`: order with it before it expires")
    priceRequest: dict[str, Any]
    price: list[QuotePrice]
    expiresAt: datetime = Field(description="When the quote stops being usable for an order")

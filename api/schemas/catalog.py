"""Steps 1 and 2 of seed 001: providers and their locations, field names as in the seed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from domain.catalog import PRODUCT_FAMILY
from store.catalog import Location, LocationSpeed, Partner


class Pagination(BaseModel):
    pageNumber: int
    pageSize: int
    totalRecords: int


class PartnerOut(BaseModel):
    id: str
    name: str
    datacenterFabricUrl: str
    partnerType: str

    @classmethod
    def of(cls, partner: Partner) -> PartnerOut:
        return cls(
            id=partner.id,
            name=partner.name,
            datacenterFabricUrl=partner.datacenter_fabric_url,
            partnerType=partner.partner_type,
        )


class ProviderList(BaseModel):
    pagination: list[Pagination]
    listPartners: list[PartnerOut]


class LocationAddress(BaseModel):
    masterSiteId: str
    streetAddress: str
    city: str
    stateOrProvince: str
    locality: str | None
    country: str
    postCode: str | None
    postCodeExtension: str | None

    @classmethod
    def of(cls, location: Location) -> LocationAddress:
        return cls(**_address(location))


class AccessCapability(BaseModel):
    speed: str
    displayValue: str
    circuitType: str


class AccessCapabilities(BaseModel):
    accessCapability: list[AccessCapability]


class ProductFamily(BaseModel):
    productFamily: str
    accessCapabilities: list[AccessCapabilities]


class LocationOut(LocationAddress):
    """A location with what the seed shows next to it: status, partner, market, speeds."""

    networkStatus: str
    naasEnabled: bool
    partner: str
    market: str
    productFamily: ProductFamily

    @classmethod
    def with_speeds(cls, location: Location, speeds: list[LocationSpeed]) -> LocationOut:
        capabilities = [
            AccessCapability(
                speed=s.speed, displayValue=s.display_value, circuitType=s.circuit_type
            )
            for s in speeds
        ]
        return cls(
            **_address(location),
            networkStatus=location.network_status,
            naasEnabled=location.naas_enabled,
            partner=location.partner_display_name,
            market=location.market,
            productFamily=ProductFamily(
                productFamily=location.product_family or PRODUCT_FAMILY,
                accessCapabilities=[AccessCapabilities(accessCapability=capabilities)],
            ),
        )


class LocationList(BaseModel):
    pagination: list[Pagination]
    location: list[LocationOut]


def _address(location: Location) -> dict[str, Any]:
    return {
        "masterSiteId": location.master_site_id,
        "streetAddress": location.street_address,
        "city": location.city,
        "stateOrProvince": location.state_or_province,
        "locality": location.locality,
        "country": location.country,
        "postCode": location.post_code,
        "postCodeExtension": location.post_code_extension,
    }

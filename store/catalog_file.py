"""The catalogue as a JSON file: what `iod catalog load FILE` and the dev demo seed load.

Format (camelCase, as in the API)::

    {
      "customers": [{"customerNumber": "1-ABCDE", "name": "Acme Networks Inc."}],
      "rateCards": {"metro": [{"speed": "100 Mbps", "hourlyRate": "0.46"}]},
      "partners": [{"id": "43558", "name": "Equinix", "datacenterFabricUrl": "…",
                    "partnerType": "CLOUD_PARTNER"}],
      "locations": [{"masterSiteId": "PL0001247634", "partnerId": "43558",
                     "streetAddress": "…", "city": "…", "stateOrProvince": "LA",
                     "country": "US", "postCode": "71203", "partner": "…",
                     "market": "…", "rateCard": "metro"}],
      "billingAccounts": [{"id": "5-RHQBGCGK", "customerNumber": "1-ABCDE", "name": "…",
                           "streetAddress": "…", "city": "…", "country": "USA",
                           "currency": "USD", "countryCode": "100", "hqCountry": "US"}]
    }

A location lists its own ``speeds`` or names a ``rateCard``. Loading upserts: what the
file names is created or updated, the speeds of each listed location are replaced, and
nothing else is deleted (withdraw a location with ``"naasEnabled": false``).
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from domain.catalog import DEFAULT_CIRCUIT_TYPE, PRODUCT_FAMILY, parse_speed
from domain.money import hourly_rate, normalise_currency
from store import billing, catalog
from store.conn import Conn

Text = Annotated[str, Field(min_length=1, max_length=255)]


class CatalogError(ValueError):
    """The file cannot be loaded; the message says why and where."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SpeedOffer(_Entry):
    speed: Text
    hourlyRate: Decimal
    displayValue: Text | None = None
    circuitType: Text = DEFAULT_CIRCUIT_TYPE

    @field_validator("speed")
    @classmethod
    def _speed(cls, value: str) -> str:
        return parse_speed(value).canonical

    @field_validator("hourlyRate")
    @classmethod
    def _rate(cls, value: Decimal) -> Decimal:
        return hourly_rate(value)


class CustomerEntry(_Entry):
    customerNumber: Text
    name: Text


class PartnerEntry(_Entry):
    id: Text
    name: Text
    datacenterFabricUrl: str = ""
    partnerType: Text = "CLOUD_PARTNER"


class LocationEntry(_Entry):
    masterSiteId: Text
    partnerId: Text
    streetAddress: Text
    city: Text
    stateOrProvince: Text
    locality: str | None = None
    country: Text
    postCode: str | None = None
    postCodeExtension: str | None = None
    networkStatus: Text = "ON_NET"
    naasEnabled: bool = True
    partner: Text
    market: Text
    productFamily: Text = PRODUCT_FAMILY
    rateCard: str | None = None
    speeds: list[SpeedOffer] | None = None


class BillingAccountEntry(_Entry):
    id: Text
    customerNumber: Text
    name: Text
    invoiceDisplayNumber: str | None = None
    streetAddress: Text
    city: Text
    stateOrProvince: str | None = None
    country: Text
    postcode: str | None = None
    currency: Text
    countryCode: Text
    hqCountry: Text
    entitled: bool = True

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return normalise_currency(value)


class CatalogFile(_Entry):
    customers: list[CustomerEntry] = []
    rateCards: dict[str, list[SpeedOffer]] = {}
    partners: list[PartnerEntry] = []
    locations: list[LocationEntry] = []
    billingAccounts: list[BillingAccountEntry] = []


class LoadSummary(BaseModel):
    customers: int
    partners: int
    locations: int
    speeds: int
    billing_accounts: int


def parse_catalog(data: str | bytes) -> CatalogFile:
    """Parse and check a catalogue document (amounts stay exact decimals)."""
    try:
        raw: Any = json.loads(data, parse_float=Decimal)
    except json.JSONDecodeError as err:
        raise CatalogError(f"not valid JSON: {err}") from None
    try:
        return CatalogFile.model_validate(raw)
    except ValidationError as err:
        lines = [
            f"{'.'.join(str(p) for p in e['loc'])}: {str(e['msg']).removeprefix('Value error, ')}"
            for e in err.errors()
        ]
        raise CatalogError("invalid catalogue:\n  " + "\n  ".join(lines)) from None


def read_catalog_file(path: Path) -> CatalogFile:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CatalogError(f"cannot read {path}: {err.strerror}") from None
    return parse_catalog(data)


def demo_catalog() -> CatalogFile:
    """The demo catalogue shipped with the package (``store/demo_catalog.json``)."""
    return parse_catalog((resources.files("store") / "demo_catalog.json").read_bytes())


def _duplicates(values: list[str], what: str) -> None:
    repeated = sorted(v for v, n in Counter(values).items() if n > 1)
    if repeated:
        raise CatalogError(f"{what} listed more than once: {', '.join(repeated[:10])}")


def _offers(
    entry: LocationEntry, cards: dict[str, list[SpeedOffer]]
) -> list[catalog.LocationSpeed]:
    if (entry.rateCard is None) == (entry.speeds is None):
        raise CatalogError(f"location {entry.masterSiteId}: give either rateCard or speeds")
    if entry.rateCard is not None and entry.rateCard not in cards:
        raise CatalogError(f"location {entry.masterSiteId}: unknown rateCard '{entry.rateCard}'")
    offers = cards[entry.rateCard] if entry.rateCard is not None else entry.speeds or []
    _duplicates([o.speed for o in offers], f"location {entry.masterSiteId}: speeds")
    return [
        catalog.LocationSpeed(
            master_site_id=entry.masterSiteId,
            speed=o.speed,
            display_value=o.displayValue or parse_speed(o.speed).display,
            circuit_type=o.circuitType,
            hourly_rate=o.hourlyRate,
        )
        for o in offers
    ]


def check_catalog(file: CatalogFile) -> dict[str, list[catalog.LocationSpeed]]:
    """The checks that span entries (no duplicates, rate cards exist); returns each
    location's speeds."""
    _duplicates([p.id for p in file.partners], "partners")
    _duplicates([loc.masterSiteId for loc in file.locations], "locations")
    _duplicates([a.id for a in file.billingAccounts], "billing accounts")
    return {loc.masterSiteId: _offers(loc, file.rateCards) for loc in file.locations}


async def load_catalog(conn: Conn, file: CatalogFile) -> LoadSummary:
    """Upsert everything in the file, all or nothing (one transaction)."""
    speeds = check_catalog(file)
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO customers (customer_number, name)"
            " SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
            [c.customerNumber for c in file.customers],
            [c.name for c in file.customers],
        )
        await _check_references(conn, file)
        if file.partners:
            await catalog.upsert_partners(
                conn,
                [
                    catalog.Partner(
                        id=p.id,
                        name=p.name,
                        datacenter_fabric_url=p.datacenterFabricUrl,
                        partner_type=p.partnerType,
                    )
                    for p in file.partners
                ],
            )
        if file.locations:
            await catalog.upsert_locations(conn, [_location(loc) for loc in file.locations])
            await catalog.replace_speeds(conn, speeds)
            await conn.execute("ANALYZE locations")
            await conn.execute("ANALYZE location_speeds")
        if file.billingAccounts:
            await billing.upsert_billing_accounts(conn, [_account(a) for a in file.billingAccounts])
    return LoadSummary(
        customers=len(file.customers),
        partners=len(file.partners),
        locations=len(file.locations),
        speeds=sum(len(s) for s in speeds.values()),
        billing_accounts=len(file.billingAccounts),
    )


async def _check_references(conn: Conn, file: CatalogFile) -> None:
    partner_ids = {p.id for p in file.partners}
    wanted = sorted({loc.partnerId for loc in file.locations} - partner_ids)
    known = {
        r["id"] for r in await conn.fetch("SELECT id FROM partners WHERE id = ANY($1)", wanted)
    }
    if missing := [p for p in wanted if p not in known]:
        raise CatalogError(f"locations name unknown partners: {', '.join(missing)}")
    customers = sorted({a.customerNumber for a in file.billingAccounts})
    known = {
        r["customer_number"]
        for r in await conn.fetch(
            "SELECT customer_number FROM customers WHERE customer_number = ANY($1)", customers
        )
    }
    if missing := [c for c in customers if c not in known]:
        raise CatalogError(f"billing accounts name unknown customers: {', '.join(missing)}")
    # An account never moves to another customer: that would hand it to a stranger.
    moved = await conn.fetch(
        "SELECT b.id FROM billing_accounts b"
        " JOIN unnest($1::text[], $2::text[]) AS f(id, customer_number) USING (id)"
        " WHERE b.customer_number <> f.customer_number ORDER BY b.id",
        [a.id for a in file.billingAccounts],
        [a.customerNumber for a in file.billingAccounts],
    )
    if moved:
        ids = ", ".join(r["id"] for r in moved)
        raise CatalogError(f"billing accounts belong to another customer: {ids}")


def _location(entry: LocationEntry) -> catalog.Location:
    return catalog.Location(
        master_site_id=entry.masterSiteId,
        partner_id=entry.partnerId,
        street_address=entry.streetAddress,
        city=entry.city,
        state_or_province=entry.stateOrProvince,
        locality=entry.locality,
        country=entry.country,
        post_code=entry.postCode,
        post_code_extension=entry.postCodeExtension,
        network_status=entry.networkStatus,
        naas_enabled=entry.naasEnabled,
        partner_display_name=entry.partner,
        market=entry.market,
        product_family=entry.productFamily,
    )


def _account(entry: BillingAccountEntry) -> billing.BillingAccount:
    return billing.BillingAccount(
        id=entry.id,
        customer_number=entry.customerNumber,
        name=entry.name,
        invoice_display_number=entry.invoiceDisplayNumber or entry.id,
        street_address=entry.streetAddress,
        city=entry.city,
        state_or_province=entry.stateOrProvince,
        country=entry.country,
        postcode=entry.postcode,
        currency=entry.currency,
        country_code=entry.countryCode,
        hq_country=entry.hqCountry,
        entitled=entry.entitled,
    )


async def seed_catalog(conn: Conn) -> LoadSummary:
    """Dev mode: load the demo catalogue (idempotent, like every load)."""
    return await load_catalog(conn, demo_catalog())

"""Loading the catalogue from a JSON file: `iod catalog load FILE` and the dev demo seed."""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from cli import catalog as catalog_cli
from config.settings import Settings
from store.catalog import get_location, speeds_at
from store.catalog_file import (
    CatalogError,
    check_catalog,
    demo_catalog,
    load_catalog,
    parse_catalog,
)
from store.demo_seed import seed_demo
from tests.problems import assert_problem

PARTNER = "TEST-LOAD"
SITE = "PL8000000001"
ACCOUNT = "5-TESTLOAD"


def document(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "partners": [
            {
                "id": PARTNER,
                "name": "Load Test Colo",
                "datacenterFabricUrl": "https://colo.example/fabric",
                "partnerType": "CLOUD_PARTNER",
            }
        ],
        "locations": [
            {
                "masterSiteId": SITE,
                "partnerId": PARTNER,
                "streetAddress": "1 Load St",
                "city": "Austin",
                "stateOrProvince": "TX",
                "locality": "Travis County",
                "country": "US",
                "postCode": "78701",
                "postCodeExtension": "0001",
                "partner": "Load Test Colo - Austin AUS1",
                "market": "AUSTIN",
                "speeds": [
                    {"speed": "1 gbps", "hourlyRate": "2.10"},
                    {"speed": "100 mbps", "hourlyRate": 0.5, "circuitType": "Hosted-NNI Internet"},
                ],
            }
        ],
        "billingAccounts": [
            {
                "id": ACCOUNT,
                "customerNumber": "1-XYZ99",
                "name": "Globex Austin",
                "streetAddress": "1 LOAD ST",
                "city": "AUSTIN",
                "stateOrProvince": "TX",
                "country": "USA",
                "postcode": "78701",
                "currency": "usd",
                "countryCode": "100",
                "hqCountry": "US",
            }
        ],
    }
    doc.update(changes)
    return doc


@pytest.fixture
async def cleanup(pool: asyncpg.Pool) -> AsyncIterator[None]:
    yield
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM quotes WHERE partner_id = $1", PARTNER)
        await conn.execute(
            "DELETE FROM location_speeds WHERE master_site_id IN"
            " (SELECT master_site_id FROM locations WHERE partner_id = $1)",
            PARTNER,
        )
        await conn.execute("DELETE FROM locations WHERE partner_id = $1", PARTNER)
        await conn.execute("DELETE FROM partners WHERE id = $1", PARTNER)
        await conn.execute("DELETE FROM billing_accounts WHERE id = $1", ACCOUNT)


async def _cli_load(settings: Settings, tmp_path: Path, doc: dict[str, Any] | str) -> int:
    path = tmp_path / "catalog.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return await catalog_cli.run(settings, argparse.Namespace(file=path))


async def test_cli_loads_a_catalogue_file_that_the_api_then_serves(
    settings: Settings,
    tmp_path: Path,
    api: httpx.AsyncClient,
    acme: dict[str, str],
    globex: dict[str, str],
    cleanup: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await _cli_load(settings, tmp_path, document()) == 0
    assert "1 partners, 1 locations (2 speeds), 1 billing accounts" in capsys.readouterr().out

    listed = await api.get("/Network/v1/location", params={"partnerId": PARTNER}, headers=acme)
    (location,) = listed.json()["location"]
    assert location["masterSiteId"] == SITE
    assert location["market"] == "AUSTIN"
    assert location["postCodeExtension"] == "0001"
    speeds = location["productFamily"]["accessCapabilities"][0]["accessCapability"]
    assert speeds == [
        {"speed": "100 Mbps", "displayValue": "100 Mbps", "circuitType": "Hosted-NNI Internet"},
        {"speed": "1000 Mbps", "displayValue": "1 Gbps", "circuitType": "Hosted-NNI Internet"},
    ]
    prices = await api.get(
        "/Product/v1/price", params={"masterSiteId": SITE, "productCode": "718"}, headers=acme
    )
    assert [p["price"] for p in prices.json()["pricePerSpeed"]] == ["$0.50", "$2.10"]

    accounts = await api.get(
        "/Account/v1/billingAccount", headers={**globex, "x-customer-number": "1-XYZ99"}
    )
    loaded = [a for a in accounts.json()["billingAccount"] if a["id"] == ACCOUNT]
    assert loaded[0]["invoiceDisplayNumber"] == ACCOUNT  # defaults to the id
    assert loaded[0]["currency"] == "USD"
    mine = await api.get(
        "/Account/v1/billingAccount",
        params={"pageSize": 100},
        headers={**acme, "x-customer-number": "1-ABCDE"},
    )
    assert ACCOUNT not in {a["id"] for a in mine.json()["billingAccount"]}


async def test_loading_again_updates_and_replaces_speeds(
    pool: asyncpg.Pool, settings: Settings, tmp_path: Path, cleanup: None
) -> None:
    assert await _cli_load(settings, tmp_path, document()) == 0
    changed = document()
    changed["locations"][0]["market"] = "AUSTIN-SAN ANTONIO"
    changed["locations"][0]["speeds"] = [{"speed": "200 Mbps", "hourlyRate": "0.80"}]
    assert await _cli_load(settings, tmp_path, changed) == 0
    async with pool.acquire() as conn:
        location = await get_location(conn, SITE)
        offers = (await speeds_at(conn, [SITE]))[SITE]
    assert location is not None and location.market == "AUSTIN-SAN ANTONIO"
    assert [(o.speed, o.hourly_rate) for o in offers] == [("200 Mbps", Decimal("0.8000"))]
    assert await pool.fetchval("SELECT count(*) FROM locations WHERE partner_id = $1", PARTNER) == 1


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ('{"partners": [', "not valid JSON"),
        (document(partners=[]), "unknown partners: TEST-LOAD"),
        (
            document(billingAccounts=[{**document()["billingAccounts"][0], "id": "5-RHQBGCGK"}]),
            "belong to another customer: 5-RHQBGCGK",
        ),
        (
            document(
                billingAccounts=[{**document()["billingAccounts"][0], "customerNumber": "1-NOPE"}]
            ),
            "unknown customers: 1-NOPE",
        ),
    ],
)
async def test_a_bad_file_loads_nothing(
    pool: asyncpg.Pool,
    settings: Settings,
    tmp_path: Path,
    cleanup: None,
    capsys: pytest.CaptureFixture[str],
    doc: dict[str, Any] | str,
    message: str,
) -> None:
    assert await _cli_load(settings, tmp_path, doc) == 1
    assert message in capsys.readouterr().err
    assert (
        await pool.fetchval("SELECT count(*) FROM locations WHERE master_site_id = $1", SITE) == 0
    )
    owner = await pool.fetchval(
        "SELECT customer_number FROM billing_accounts WHERE id = '5-RHQBGCGK'"
    )
    assert owner == "1-ABCDE"


async def test_missing_file_is_an_error(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(file=tmp_path / "nope.json")
    assert await catalog_cli.run(settings, args) == 1
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"speeds": [{"speed": "fast", "hourlyRate": "1"}]}, "speed"),
        ({"speeds": [{"speed": "1 Gbps", "hourlyRate": "-1"}]}, "hourlyRate"),
        ({"speeds": [{"speed": "1 Gbps", "hourlyRate": "0.12345"}]}, "hourlyRate"),
        ({"speeds": [{"speed": "1 Gbps", "hourlyRate": "1"}], "rateCard": "x"}, "either"),
        ({"speeds": None}, "either"),
        ({"speeds": None, "rateCard": "missing"}, "unknown rateCard"),
        (
            {
                "speeds": [
                    {"speed": "1 Gbps", "hourlyRate": "1"},
                    {"speed": "1000 Mbps", "hourlyRate": "2"},
                ]
            },
            "listed more than once: 1000 Mbps",
        ),
        ({"city": ""}, "city"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_file_content_is_checked(change: dict[str, Any], message: str) -> None:
    doc = document()
    doc["locations"][0].update(change)
    with pytest.raises(CatalogError, match=message):
        check_catalog(parse_catalog(json.dumps(doc)))


def test_duplicates_are_refused() -> None:
    doc = document()
    doc["locations"] = doc["locations"] * 2
    with pytest.raises(CatalogError, match=f"locations listed more than once: {SITE}"):
        check_catalog(parse_catalog(json.dumps(doc)))
    doc = document()
    doc["billingAccounts"] = doc["billingAccounts"] * 2
    with pytest.raises(CatalogError, match=f"billing accounts listed more than once: {ACCOUNT}"):
        check_catalog(parse_catalog(json.dumps(doc)))


def test_demo_catalogue_is_realistic() -> None:
    demo = demo_catalog()
    assert [p.id for p in demo.partners] == ["43558", "362232"]
    by_partner: dict[str, int] = {}
    for loc in demo.locations:
        by_partner[loc.partnerId] = by_partner.get(loc.partnerId, 0) + loc.naasEnabled
    assert all(10 <= n <= 20 for n in by_partner.values()), by_partner
    seed = next(loc for loc in demo.locations if loc.masterSiteId == "PL0001247634")
    assert (seed.streetAddress, seed.city, seed.stateOrProvince) == (
        "100 CenturyLink Dr",
        "Monroe",
        "LA",
    )
    metro = {o.speed: o.hourlyRate for o in demo.rateCards["metro"]}
    assert metro["100 Mbps"] == Decimal("0.46")
    assert list(metro) == [
        "10 Mbps",
        "50 Mbps",
        "100 Mbps",
        "200 Mbps",
        "500 Mbps",
        "1000 Mbps",
        "2000 Mbps",
        "5000 Mbps",
        "10000 Mbps",
    ]
    accounts = [a for a in demo.billingAccounts if a.customerNumber == "1-ABCDE"]
    assert len(accounts) >= 4
    assert any(a.id == "5-RHQBGCGK" and a.hqCountry == "US" for a in accounts)
    assert any(a.hqCountry != "US" for a in accounts)
    assert any(not a.entitled for a in accounts)
    assert any(a.customerNumber == "1-XYZ99" for a in demo.billingAccounts)


async def test_demo_seed_is_idempotent(database_url: str, pool: asyncpg.Pool) -> None:
    snapshot = [
        "SELECT * FROM partners ORDER BY id",
        "SELECT master_site_id, partner_id, street_address, city, market, naas_enabled"
        " FROM locations ORDER BY master_site_id",
        "SELECT * FROM location_speeds ORDER BY master_site_id, speed",
        "SELECT * FROM billing_accounts ORDER BY id",
        "SELECT customer_number, name FROM customers ORDER BY customer_number",
    ]
    before = [[dict(r) for r in await pool.fetch(q)] for q in snapshot]
    conn = await asyncpg.connect(database_url)
    try:
        await seed_demo(conn)
    finally:
        await conn.close()
    assert [[dict(r) for r in await pool.fetch(q)] for q in snapshot] == before
    assert len(before[3]) == 9 and len(before[2]) > 200


async def test_loaded_speed_is_priced_and_quoted(
    api: httpx.AsyncClient,
    acme: dict[str, str],
    pool: asyncpg.Pool,
    settings: Settings,
    tmp_path: Path,
    cleanup: None,
) -> None:
    async with pool.acquire() as conn:
        await load_catalog(conn, parse_catalog(json.dumps(document())))
    body = {
        "sourceSystem": "NaaS ExternalAPI",
        "customerNumber": "1-ABCDE",
        "currencyCode": "USD",
        "masterSiteId": SITE,
        "productCode": "718",
        "partnerId": PARTNER,
        "speed": "1 Gbps",
    }
    response = await api.post("/Product/v1/priceRequest", headers=acme, json=body)
    assert response.status_code == 201, response.text
    assert [p["price"] for p in response.json()["price"]] == ["$2.10", "$1512.00"]
    body["partnerId"] = "43558"
    assert_problem(
        await api.post("/Product/v1/priceRequest", headers=acme, json=body), 422, "partnerId"
    )

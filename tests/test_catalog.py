"""Seed 001 steps 1 and 2 over HTTP: providers and locations, field by field."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.problems import assert_problem

PROVIDER = "/Network/v1/provider"
LOCATION = "/Network/v1/location"

SEED_PARTNERS = [
    {
        "id": "43558",
        "name": "Equinix",
        "datacenterFabricUrl": "https://ecxfabric.equinix.com/",
        "partnerType": "CLOUD_PARTNER",
    },
    {
        "id": "362232",
        "name": "Digital Realty",
        "datacenterFabricUrl": "https://www.digitalrealty.com/platform-digital/connectivity/service-fabric/connect",
        "partnerType": "CLOUD_PARTNER",
    },
]


async def test_providers_are_the_seed_partners(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    response = await api.get(PROVIDER, headers=acme)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"pagination", "listPartners"}
    total = await pool.fetchval("SELECT count(*) FROM partners")
    assert body["pagination"] == [{"pageNumber": 1, "pageSize": 10, "totalRecords": total}]
    assert body["listPartners"][:2] == SEED_PARTNERS


async def test_providers_are_paginated(api: httpx.AsyncClient, acme: dict[str, str]) -> None:
    first = (await api.get(PROVIDER, params={"pageSize": 1}, headers=acme)).json()
    second = (await api.get(PROVIDER, params={"pageSize": 1, "pageNumber": 2}, headers=acme)).json()
    assert first["listPartners"] == SEED_PARTNERS[:1]
    assert second["listPartners"] == SEED_PARTNERS[1:2]
    assert first["pagination"][0]["pageSize"] == 1
    assert second["pagination"][0]["pageNumber"] == 2
    beyond = await api.get(PROVIDER, params={"pageNumber": 999}, headers=acme)
    assert beyond.status_code == 200 and beyond.json()["listPartners"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"pageNumber": 0}, "pageNumber"),
        ({"pageNumber": "x"}, "pageNumber"),
        ({"pageNumber": 10**12}, "pageNumber"),
        ({"pageSize": 0}, "pageSize"),
        ({"pageSize": 101}, "pageSize"),
    ],
)
async def test_bad_paging_is_400_naming_it(
    api: httpx.AsyncClient, acme: dict[str, str], params: dict[str, Any], field: str
) -> None:
    assert_problem(await api.get(PROVIDER, params=params, headers=acme), 400, field)
    located = await api.get(LOCATION, params={"partnerId": "43558", **params}, headers=acme)
    assert_problem(located, 400, field)


async def test_seed_location_is_listed_as_in_the_seed(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    response = await api.get(LOCATION, params={"partnerId": "43558"}, headers=acme)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"pagination", "location"}
    total = await pool.fetchval(
        "SELECT count(*) FROM locations WHERE partner_id = '43558' AND naas_enabled"
    )
    assert total >= 10
    assert body["pagination"] == [{"pageNumber": 1, "pageSize": 10, "totalRecords": total}]
    assert len(body["location"]) == 10
    seed = body["location"][0]
    capabilities = seed.pop("productFamily")
    assert seed == {
        "masterSiteId": "PL0001247634",
        "streetAddress": "100 CenturyLink Dr",
        "city": "Monroe",
        "stateOrProvince": "LA",
        "locality": "Ouachita Parish",
        "country": "US",
        "postCode": "71203",
        "postCodeExtension": "2041",
        "networkStatus": "ON_NET",
        "naasEnabled": True,
        "partner": "Equinix Ethernet Exchange - Silicon Valley IBX",
        "market": "WASHINGTON DC",
    }
    assert capabilities["productFamily"] == "Internet On-Demand"
    (group,) = capabilities["accessCapabilities"]
    speeds = group["accessCapability"]
    assert {
        "speed": "1000 Mbps",
        "displayValue": "1 Gbps",
        "circuitType": "Hosted-NNI Internet",
    } in (speeds)
    assert [s["speed"] for s in speeds] == [
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
    assert [s["displayValue"] for s in speeds][-4:] == ["1 Gbps", "2 Gbps", "5 Gbps", "10 Gbps"]


async def test_every_listed_location_has_address_market_and_speeds(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    for partner, display in (("43558", "Equinix"), ("362232", "Digital Realty")):
        body = (
            await api.get(LOCATION, params={"partnerId": partner, "pageSize": 100}, headers=acme)
        ).json()
        locations = body["location"]
        assert 10 <= len(locations) == body["pagination"][0]["totalRecords"]
        ids = [loc["masterSiteId"] for loc in locations]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        for loc in locations:
            assert loc["naasEnabled"] is True
            assert loc["networkStatus"] == "ON_NET"
            assert loc["partner"].startswith(display)
            assert loc["market"] and loc["streetAddress"] and loc["city"]
            assert loc["country"] == "US" and len(loc["stateOrProvince"]) == 2
            assert loc["postCode"].isdigit() and len(loc["postCode"]) == 5
            speeds = loc["productFamily"]["accessCapabilities"][0]["accessCapability"]
            assert {"speed": "100 Mbps", "displayValue": "100 Mbps"}.items() <= speeds[2].items()
        markets = {loc["market"] for loc in locations}
        assert {"WASHINGTON DC", "CHICAGO", "NEW YORK", "DALLAS"} <= markets


async def test_locations_that_are_not_naas_enabled_are_not_listed(
    api: httpx.AsyncClient, acme: dict[str, str], pool: asyncpg.Pool
) -> None:
    disabled = await pool.fetch(
        "SELECT master_site_id, partner_id FROM locations WHERE NOT naas_enabled"
    )
    assert {r["partner_id"] for r in disabled} == {"43558", "362232"}
    for row in disabled:
        body = (
            await api.get(
                LOCATION, params={"partnerId": row["partner_id"], "pageSize": 100}, headers=acme
            )
        ).json()
        assert row["master_site_id"] not in {loc["masterSiteId"] for loc in body["location"]}


async def test_locations_are_paginated_without_gaps_or_repeats(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    everything = (
        await api.get(LOCATION, params={"partnerId": "362232", "pageSize": 100}, headers=acme)
    ).json()["location"]
    seen: list[str] = []
    page = 1
    while True:
        body = (
            await api.get(
                LOCATION,
                params={"partnerId": "362232", "pageSize": 4, "pageNumber": page},
                headers=acme,
            )
        ).json()
        assert body["pagination"][0] == {
            "pageNumber": page,
            "pageSize": 4,
            "totalRecords": len(everything),
        }
        if not body["location"]:
            break
        assert len(body["location"]) <= 4
        seen += [loc["masterSiteId"] for loc in body["location"]]
        page += 1
    assert seen == [loc["masterSiteId"] for loc in everything]
    assert page == (len(everything) + 3) // 4 + 1


async def test_partner_id_is_required_and_must_exist(
    api: httpx.AsyncClient, acme: dict[str, str]
) -> None:
    missing = assert_problem(await api.get(LOCATION, headers=acme), 400, "partnerId")
    assert missing["errors"][0]["code"] == "required"
    assert_problem(
        await api.get(LOCATION, params={"partnerId": ""}, headers=acme), 400, "partnerId"
    )
    unknown = await api.get(LOCATION, params={"partnerId": "99999"}, headers=acme)
    body = assert_problem(unknown, 404, "partnerId")
    assert "99999" in body["detail"]
    too_long = await api.get(LOCATION, params={"partnerId": "9" * 65}, headers=acme)
    assert_problem(too_long, 400, "partnerId")


async def test_catalogue_needs_a_token(api: httpx.AsyncClient) -> None:
    assert_problem(await api.get(PROVIDER), 401, "Authorization")
    assert_problem(await api.get(LOCATION, params={"partnerId": "43558"}), 401, "Authorization")
    # Authentication comes before validation: no token and no partnerId is still a 401.
    assert_problem(await api.get(LOCATION), 401, "Authorization")


async def test_both_customers_see_the_same_catalogue(
    api: httpx.AsyncClient, acme: dict[str, str], globex: dict[str, str]
) -> None:
    params: dict[str, str | int] = {"partnerId": "43558", "pageSize": 100}
    mine = await api.get(LOCATION, params=params, headers=acme)
    theirs = await api.get(LOCATION, params=params, headers=globex)
    assert mine.status_code == theirs.status_code == 200
    assert mine.json() == theirs.json()

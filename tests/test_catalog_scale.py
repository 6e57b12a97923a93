"""Listing stays index-driven with 10,000 locations (five partners of 2,000, their sites
interleaved): plans use the listing index, and a deep page is answered with the right rows.
No timings are asserted."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from store.catalog import COUNT_LOCATIONS_SQL, LIST_LOCATIONS_SQL
from store.catalog_file import load_catalog, parse_catalog

PARTNERS = [f"TEST-SCALE-{p}" for p in range(5)]
PARTNER = PARTNERS[3]
COUNT = 10_000


def _site(n: int) -> str:
    return f"PL9{n:09d}"


@pytest.fixture(scope="module")
async def many_locations(pool: asyncpg.Pool) -> AsyncIterator[list[str]]:
    document = {
        "rateCards": {"basic": [{"speed": "100 Mbps", "hourlyRate": "0.46"}]},
        "partners": [{"id": p, "name": f"Scale Test Partner {p}"} for p in PARTNERS],
        "locations": [
            {
                "masterSiteId": _site(n),
                "partnerId": PARTNERS[n % len(PARTNERS)],
                "streetAddress": f"{n} Test St",
                "city": "Testville",
                "stateOrProvince": "TX",
                "country": "US",
                "postCode": "75001",
                "partner": "Scale Test IBX",
                "market": "DALLAS",
                "naasEnabled": n % 100 != 3,  # 1 in 100 is not listed
                "rateCard": "basic",
            }
            for n in range(COUNT)
        ],
    }
    async with pool.acquire() as conn:
        await load_catalog(conn, parse_catalog(json.dumps(document)))
        # What autovacuum does after a bulk load; the loader itself is one transaction.
        await conn.execute("VACUUM ANALYZE locations")
    listed = [_site(n) for n in range(COUNT) if n % 5 == 3 and n % 100 != 3]
    try:
        yield listed
    finally:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "DELETE FROM location_speeds WHERE master_site_id IN"
                " (SELECT master_site_id FROM locations WHERE partner_id = ANY($1))",
                PARTNERS,
            )
            await conn.execute("DELETE FROM locations WHERE partner_id = ANY($1)", PARTNERS)
            await conn.execute("DELETE FROM partners WHERE id = ANY($1)", PARTNERS)


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


async def _plan(pool: asyncpg.Pool, sql: str, *args: object) -> list[dict[str, Any]]:
    raw = await pool.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
    document = json.loads(raw) if isinstance(raw, str) else raw
    return _nodes(document[0]["Plan"])


async def test_deep_page_query_uses_the_listing_index(
    pool: asyncpg.Pool, many_locations: list[str]
) -> None:
    for offset in (0, 1_000, 1_890):
        nodes = await _plan(pool, LIST_LOCATIONS_SQL, PARTNER, 10, offset)
        scans = [n for n in nodes if n.get("Relation Name") == "locations"]
        assert scans, nodes
        assert not any(n["Node Type"] == "Seq Scan" for n in scans), nodes
        assert any(n.get("Index Name") == "locations_partner_listing" for n in nodes), nodes
    count = await _plan(pool, COUNT_LOCATIONS_SQL, PARTNER)
    assert not any(n["Node Type"] == "Seq Scan" for n in count), count
    assert any(n.get("Index Name") == "locations_partner_listing" for n in count), count


async def test_a_deep_page_is_answered_correctly(
    api: httpx.AsyncClient, acme: dict[str, str], many_locations: list[str]
) -> None:
    total = len(many_locations)
    assert total == 1_900  # 2,000 less the 100 not NaaS-enabled
    last_page = total // 20
    response = await api.get(
        "/Network/v1/location",
        params={"partnerId": PARTNER, "pageSize": 20, "pageNumber": last_page},
        headers=acme,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["pagination"] == [{"pageNumber": last_page, "pageSize": 20, "totalRecords": total}]
    assert [loc["masterSiteId"] for loc in body["location"]] == many_locations[-20:]
    speeds = body["location"][0]["productFamily"]["accessCapabilities"][0]["accessCapability"]
    assert speeds == [
        {"speed": "100 Mbps", "displayValue": "100 Mbps", "circuitType": "Hosted-NNI Internet"}
    ]

    middle = await api.get(
        "/Network/v1/location",
        params={"partnerId": PARTNER, "pageSize": 100, "pageNumber": 10},
        headers=acme,
    )
    assert [loc["masterSiteId"] for loc in middle.json()["location"]] == many_locations[900:1_000]
    beyond = await api.get(
        "/Network/v1/location",
        params={"partnerId": PARTNER, "pageSize": 20, "pageNumber": last_page + 1},
        headers=acme,
    )
    assert beyond.json()["location"] == []


async def test_other_partners_listing_is_unaffected(
    api: httpx.AsyncClient, acme: dict[str, str], many_locations: list[str], pool: asyncpg.Pool
) -> None:
    body = (
        await api.get("/Network/v1/location", params={"partnerId": "43558"}, headers=acme)
    ).json()
    expected = await pool.fetchval(
        "SELECT count(*) FROM locations WHERE partner_id = '43558' AND naas_enabled"
    )
    assert body["pagination"][0]["totalRecords"] == expected < 100
    assert body["location"][0]["masterSiteId"] == "PL0001247634"

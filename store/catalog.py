"""Partners, their locations and the speeds (with hourly rates) offered at each location."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from pydantic import BaseModel

from domain.catalog import PageRequest, Speed, parse_speed
from store.conn import Conn


class Partner(BaseModel):
    id: str
    name: str
    datacenter_fabric_url: str
    partner_type: str


class Location(BaseModel):
    master_site_id: str
    partner_id: str
    street_address: str
    city: str
    state_or_province: str
    locality: str | None = None
    country: str
    post_code: str | None = None
    post_code_extension: str | None = None
    network_status: str = "ON_NET"
    naas_enabled: bool = True
    partner_display_name: str
    market: str
    product_family: str = "Internet On-Demand"


class LocationSpeed(BaseModel):
    master_site_id: str
    speed: str
    display_value: str
    circuit_type: str
    hourly_rate: Decimal

    @property
    def bandwidth(self) -> Speed:
        return parse_speed(self.speed)


_PARTNER_COLUMNS = "id, name, datacenter_fabric_url, partner_type"
_LOCATION_FIELDS = (
    "master_site_id",
    "partner_id",
    "street_address",
    "city",
    "state_or_province",
    "locality",
    "country",
    "post_code",
    "post_code_extension",
    "network_status",
    "naas_enabled",
    "partner_display_name",
    "market",
    "product_family",
)
_LOCATION_COLUMNS = ", ".join(_LOCATION_FIELDS)
_SPEED_COLUMNS = "master_site_id, speed, display_value, circuit_type, hourly_rate"


async def list_partners(conn: Conn, page: PageRequest) -> tuple[list[Partner], int]:
    """One page of partners, numeric ids in numeric order, and the total."""
    rows = await conn.fetch(
        f"SELECT {_PARTNER_COLUMNS} FROM partners ORDER BY length(id), id LIMIT $1 OFFSET $2",
        page.limit,
        page.offset,
    )
    total = await conn.fetchval("SELECT count(*) FROM partners")
    return [Partner(**dict(r)) for r in rows], int(total)


async def get_partner(conn: Conn, partner_id: str) -> Partner | None:
    row = await conn.fetchrow(f"SELECT {_PARTNER_COLUMNS} FROM partners WHERE id = $1", partner_id)
    return Partner(**dict(row)) if row else None


LIST_LOCATIONS_SQL = (
    # Deferred join: the page's keys come from an index-only scan of the partial index
    # locations_partner_listing, so a deep page reads index entries, not the table.
    "WITH page AS ("
    " SELECT master_site_id FROM locations WHERE partner_id = $1 AND naas_enabled"
    " ORDER BY master_site_id LIMIT $2 OFFSET $3)"
    f" SELECT {', '.join('l.' + c for c in _LOCATION_FIELDS)}"
    " FROM page JOIN locations l USING (master_site_id) ORDER BY l.master_site_id"
)
COUNT_LOCATIONS_SQL = "SELECT count(*) FROM locations WHERE partner_id = $1 AND naas_enabled"


async def list_locations(
    conn: Conn, partner_id: str, page: PageRequest
) -> tuple[list[Location], int]:
    """One page of the partner's NaaS-enabled locations by masterSiteId, and their total."""
    rows = await conn.fetch(LIST_LOCATIONS_SQL, partner_id, page.limit, page.offset)
    total = await conn.fetchval(COUNT_LOCATIONS_SQL, partner_id)
    return [Location(**dict(r)) for r in rows], int(total)


async def get_location(conn: Conn, master_site_id: str) -> Location | None:
    """Any location, NaaS-enabled or not (callers decide what a disabled one means)."""
    row = await conn.fetchrow(
        f"SELECT {_LOCATION_COLUMNS} FROM locations WHERE master_site_id = $1", master_site_id
    )
    return Location(**dict(row)) if row else None


async def speeds_at(conn: Conn, master_site_ids: Sequence[str]) -> dict[str, list[LocationSpeed]]:
    """The speeds offered at each of these locations, slowest first."""
    rows = await conn.fetch(
        f"SELECT {_SPEED_COLUMNS} FROM location_speeds WHERE master_site_id = ANY($1::text[])",
        list(master_site_ids),
    )
    found: dict[str, list[LocationSpeed]] = {site: [] for site in master_site_ids}
    for row in rows:
        found[row["master_site_id"]].append(LocationSpeed(**dict(row)))
    for speeds in found.values():
        speeds.sort(key=lambda s: s.bandwidth)
    return found


async def get_speed(conn: Conn, master_site_id: str, speed: str) -> LocationSpeed | None:
    """The offer of one canonical speed (``"100 Mbps"``) at a location."""
    row = await conn.fetchrow(
        f"SELECT {_SPEED_COLUMNS} FROM location_speeds WHERE master_site_id = $1 AND speed = $2",
        master_site_id,
        speed,
    )
    return LocationSpeed(**dict(row)) if row else None


async def upsert_partners(conn: Conn, partners: Sequence[Partner]) -> None:
    await conn.execute(
        "INSERT INTO partners (id, name, datacenter_fabric_url, partner_type)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])"
        " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,"
        " datacenter_fabric_url = EXCLUDED.datacenter_fabric_url,"
        " partner_type = EXCLUDED.partner_type",
        [p.id for p in partners],
        [p.name for p in partners],
        [p.datacenter_fabric_url for p in partners],
        [p.partner_type for p in partners],
    )


async def upsert_locations(conn: Conn, locations: Sequence[Location]) -> None:
    """Insert or update every location in one statement (fine for tens of thousands)."""
    columns = _LOCATION_FIELDS
    types = {"naas_enabled": "boolean[]"}
    unnest = ", ".join(f"${i}::{types.get(c, 'text[]')}" for i, c in enumerate(columns, 1))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != "master_site_id")
    await conn.execute(
        f"INSERT INTO locations ({', '.join(columns)}) SELECT * FROM unnest({unnest})"
        f" ON CONFLICT (master_site_id) DO UPDATE SET {updates}, updated_at = now()",
        *([getattr(loc, c) for loc in locations] for c in columns),
    )


async def replace_speeds(conn: Conn, speeds: Mapping[str, Sequence[LocationSpeed]]) -> None:
    """Each listed location offers exactly the given speeds afterwards."""
    await conn.execute(
        "DELETE FROM location_speeds WHERE master_site_id = ANY($1::text[])", list(speeds)
    )
    offers = [offer for site_offers in speeds.values() for offer in site_offers]
    await conn.execute(
        f"INSERT INTO location_speeds ({_SPEED_COLUMNS})"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[])",
        [o.master_site_id for o in offers],
        [o.speed for o in offers],
        [o.display_value for o in offers],
        [o.circuit_type for o in offers],
        [o.hourly_rate for o in offers],
    )

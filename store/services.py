"""Services in inventory: what completed orders created, changed or disconnected."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from store.conn import Conn


class ServiceRow(BaseModel):
    service_id: str
    customer_number: str
    billing_account_id: str
    billing_account_name: str
    master_site_id: str
    speed: str
    customer_service_name: str
    ipv4_block_size: str
    status: str
    pending_order_id: str | None
    created_by_order: str
    activated_at: datetime
    disconnected_at: datetime | None


class InventoryItem(ServiceRow):
    ipv4_block: str | None
    vlan_id: int | None
    street_address: str | None
    city: str | None
    state_or_province: str | None
    country: str | None
    post_code: str | None


_COLUMNS = (
    "s.service_id, s.customer_number, s.billing_account_id, s.billing_account_name,"
    " s.master_site_id, s.speed, s.customer_service_name, s.ipv4_block_size, s.status,"
    " s.pending_order_id::text AS pending_order_id, s.created_by_order::text AS created_by_order,"
    " s.activated_at, s.disconnected_at"
)


async def lock_for_change(conn: Conn, customer_number: str, service_id: str) -> ServiceRow | None:
    """The customer's service, row-locked for the rest of the transaction."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM services s WHERE s.service_id = $1 AND s.customer_number = $2"
        " FOR UPDATE",
        service_id,
        customer_number,
    )
    return ServiceRow(**dict(row)) if row else None


async def live_at_site(conn: Conn, customer_number: str, master_site_id: str) -> ServiceRow | None:
    """The customer's service at this site (for Service Activation: this access) that is
    not disconnected, if any."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM services s WHERE s.customer_number = $1"
        " AND s.master_site_id = $2 AND s.status <> 'Disconnected'"
        " ORDER BY s.activated_at DESC LIMIT 1",
        customer_number,
        master_site_id,
    )
    return ServiceRow(**dict(row)) if row else None


async def get_for_customer(conn: Conn, customer_number: str, service_id: str) -> ServiceRow | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM services s WHERE s.service_id = $1 AND s.customer_number = $2",
        service_id,
        customer_number,
    )
    return ServiceRow(**dict(row)) if row else None


async def mark_pending(conn: Conn, service_id: str, order_request_id: str, status: str) -> None:
    await conn.execute(
        "UPDATE services SET status = $2, pending_order_id = $3, updated_at = now()"
        " WHERE service_id = $1",
        service_id,
        status,
        UUID(order_request_id),
    )


async def insert_active(
    conn: Conn,
    *,
    service_id: str,
    customer_number: str,
    billing_account_id: str,
    billing_account_name: str,
    master_site_id: str,
    speed: str,
    customer_service_name: str,
    ipv4_block_size: str,
    order_request_id: str,
) -> None:
    """Idempotent: a retried activity finds the service already there."""
    await conn.execute(
        "INSERT INTO services (service_id, customer_number, billing_account_id,"
        " billing_account_name, master_site_id, speed, customer_service_name, ipv4_block_size,"
        " status, created_by_order) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'Active', $9)"
        " ON CONFLICT (service_id) DO NOTHING",
        service_id,
        customer_number,
        billing_account_id,
        billing_account_name,
        master_site_id,
        speed,
        customer_service_name,
        ipv4_block_size,
        UUID(order_request_id),
    )


async def complete_change(conn: Conn, service_id: str, order_request_id: str, speed: str) -> None:
    await conn.execute(
        "UPDATE services SET status = 'Active', speed = $3, pending_order_id = NULL,"
        " updated_at = now() WHERE service_id = $1 AND pending_order_id = $2",
        service_id,
        UUID(order_request_id),
        speed,
    )


async def complete_disconnect(conn: Conn, service_id: str, order_request_id: str) -> None:
    await conn.execute(
        "UPDATE services SET status = 'Disconnected', pending_order_id = NULL,"
        " disconnected_at = now(), updated_at = now()"
        " WHERE service_id = $1 AND pending_order_id = $2",
        service_id,
        UUID(order_request_id),
    )


async def abandon_change(conn: Conn, order_request_id: str) -> None:
    """A modify/delete that failed or was cancelled leaves the service as it was: Active."""
    await conn.execute(
        "UPDATE services SET status = 'Active', pending_order_id = NULL, updated_at = now()"
        " WHERE pending_order_id = $1",
        UUID(order_request_id),
    )


async def list_inventory(
    conn: Conn,
    customer_number: str,
    *,
    service_id: str | None,
    offset: int,
    limit: int,
) -> tuple[list[InventoryItem], int]:
    """One page of the customer's services (index on customer, service) and the total."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS}, ip.block::text AS ipv4_block, v.vlan_id,"
        " l.street_address, l.city, l.state_or_province, l.country, l.post_code"
        " FROM services s"
        " LEFT JOIN ipv4_allocations ip ON ip.service_id = s.service_id AND ip.released_at IS NULL"
        " LEFT JOIN vlan_allocations v ON v.service_id = s.service_id AND v.released_at IS NULL"
        " LEFT JOIN locations l ON l.master_site_id = s.master_site_id"
        " WHERE s.customer_number = $1 AND ($2::text IS NULL OR s.service_id = $2)"
        " ORDER BY s.service_id LIMIT $3 OFFSET $4",
        customer_number,
        service_id,
        limit,
        offset,
    )
    total = await conn.fetchval(
        "SELECT count(*) FROM services WHERE customer_number = $1"
        " AND ($2::text IS NULL OR service_id = $2)",
        customer_number,
        service_id,
    )
    return [InventoryItem(**dict(r)) for r in rows], int(total)

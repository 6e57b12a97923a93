"""Demo data for dev mode: two customers with one API client each (see README)."""

from __future__ import annotations

from domain.secrets import hash_secret
from store import clients
from store.catalog_file import seed_catalog
from store.conn import Conn

DEMO_CUSTOMERS = [
    # customer number, name, client id, client secret
    ("1-ABCDE", "Acme Networks Inc.", "demo-client", "demo-secret"),
    ("1-XYZ99", "Globex Corporation", "other-client", "other-secret"),
]


async def seed_customers(conn: Conn) -> None:
    for number, name, client_id, secret in DEMO_CUSTOMERS:
        await clients.upsert_customer(conn, number, name)
        existing = await clients.find_client(conn, client_id)
        if existing is None:
            await clients.upsert_client(conn, client_id, number, hash_secret(secret))


async def seed_demo(conn: Conn) -> None:
    """Idempotent: running it again changes nothing."""
    async with conn.transaction():
        await seed_customers(conn)
        await seed_catalog(conn)

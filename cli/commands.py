"""What each ``iod`` subcommand does."""

from __future__ import annotations

import argparse
import secrets

import asyncpg

from cli import catalog, orders, services
from config.settings import Settings
from domain.secrets import hash_secret, new_client_secret
from store import clients
from store.migrate import migrate
from worker.temporal_client import connect_temporal


def add_more_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Subcommands of later features (catalogue, orders) are declared here."""
    orders.add_commands(sub)
    catalog.add_commands(sub)


async def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    match args.command:
        case "dev":
            await services.run_dev(settings)
        case "api":
            await services.run_api(_external(settings))
        case "worker":
            await services.run_worker(_external(settings))
        case "migrate":
            await services.prepare(_external(settings), seed=args.seed_demo)
        case "clients":
            return await create_client(settings, args)
        case "catalog":
            return await catalog.run(settings, args)
        case "orders":
            settings = _external_temporal(settings)
            assert settings.temporal_address
            client = await connect_temporal(settings.temporal_address, settings.temporal_namespace)
            return await orders.run(client, args)
    return 0


def _external_temporal(settings: Settings) -> Settings:
    """Support commands talk to the Temporal server of ``iod dev`` unless told otherwise."""
    if settings.temporal_address:
        return settings
    return settings.model_copy(update={"temporal_address": f"127.0.0.1:{settings.temporal_port}"})


def _external(settings: Settings) -> Settings:
    if not settings.database_url or not settings.temporal_address:
        raise SystemExit(
            "set DATABASE_URL and TEMPORAL_ADDRESS (or use `iod dev`, which embeds both)"
        )
    return settings


async def create_client(settings: Settings, args: argparse.Namespace) -> int:
    async with services.servers(settings, embedded=True, with_temporal=False) as found:
        conn = await asyncpg.connect(found.database_url)
        try:
            await migrate(conn)
            async with conn.transaction():
                if not await clients.customer_exists(conn, args.customer):
                    await clients.upsert_customer(conn, args.customer, args.name or args.customer)
                client_id = args.client_id or f"client-{secrets.token_hex(6)}"
                secret = new_client_secret()
                await clients.upsert_client(conn, client_id, args.customer, hash_secret(secret))
        finally:
            await conn.close()
    print(f"customer:      {args.customer}")
    print(f"client_id:     {client_id}")
    print(f"client_secret: {secret}   (shown once; only its hash is stored)")
    return 0

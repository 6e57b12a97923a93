"""``iod catalog load FILE``: load partners, locations, prices and billing accounts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import asyncpg

from cli import services
from config.settings import Settings
from store.catalog_file import CatalogError, load_catalog, read_catalog_file
from store.migrate import migrate


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    catalog = sub.add_parser("catalog", help="manage the catalogue and billing accounts")
    actions = catalog.add_subparsers(dest="action", required=True)
    load = actions.add_parser(
        "load",
        help="upsert a catalogue JSON file (format: see store/catalog_file.py; "
        "example: store/demo_catalog.json)",
    )
    load.add_argument("file", type=Path)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Load into ``DATABASE_URL``, or into the embedded database of ``iod dev``."""
    try:
        catalog = read_catalog_file(args.file)
    except CatalogError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    async with services.servers(settings, embedded=True, with_temporal=False) as found:
        conn = await asyncpg.connect(found.database_url)
        try:
            await migrate(conn)
            summary = await load_catalog(conn, catalog)
            # Fresh statistics and visibility map, so listings get index-only scans at once.
            await conn.execute("VACUUM ANALYZE partners, locations, location_speeds")
        except CatalogError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        finally:
            await conn.close()
    print(
        f"loaded {summary.partners} partners, {summary.locations} locations "
        f"({summary.speeds} speeds), {summary.billing_accounts} billing accounts, "
        f"{summary.customers} customers"
    )
    return 0

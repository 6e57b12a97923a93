from __future__ import annotations

import json
from typing import Any

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's default ``RESET ALL; UNLISTEN *; CLOSE ALL; …`` query.

    That query is a database round trip on every release (a quarter of a status read's
    API CPU). Nothing here leaves session state on a pooled connection: settings are
    never changed per session, advisory locks are transaction-scoped (``_xact_``; the
    migrations' session lock is taken on a connection of their own), LISTEN has its own
    connection, and there are no server-side cursors outside transactions. An open
    transaction is still rolled back on release by asyncpg itself.
    """


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool: asyncpg.Pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=30,
    )
    return pool


def as_dict(record: asyncpg.Record | None) -> dict[str, Any] | None:
    return dict(record) if record is not None else None

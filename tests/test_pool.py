"""The pool releases connections without a reset query, and still hands out clean ones."""

from __future__ import annotations

import asyncpg
import pytest

from store.pool import create_pool


async def test_a_released_connection_is_clean_and_reused(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            await conn.execute("BEGIN")  # left open by mistake
            await conn.execute("CREATE TEMP TABLE IF NOT EXISTS leaked (x int)")
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") == pid  # no new connection
            assert not conn.is_in_transaction()  # rolled back on release
            assert await conn.fetchval("SELECT to_regclass('pg_temp.leaked')") is None
        with pytest.raises(asyncpg.DivisionByZeroError):
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SET LOCAL statement_timeout = 1234")
                await conn.fetchval("SELECT 1 / 0")
        async with pool.acquire() as conn:
            assert await conn.fetchval("SHOW statement_timeout") != "1234ms"
            assert await conn.fetchval("SELECT 1") == 1
    finally:
        await pool.close()


async def test_releasing_sends_no_query(database_url: str) -> None:
    """asyncpg's default reset is a round trip per release; ours is none."""
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        seen: list[str] = []
        async with pool.acquire() as conn:
            conn.add_query_logger(lambda record: seen.append(record.query))
            await conn.fetchval("SELECT 1")
        assert seen == ["SELECT 1"]
    finally:
        await pool.close()

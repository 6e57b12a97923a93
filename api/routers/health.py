from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import PoolDep, TemporalDep

router = APIRouter(tags=["Health"])

_READY_TIMEOUT_SECONDS = 3.0


@router.get("/healthz")
async def liveness() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readiness(pool: PoolDep, temporal: TemporalDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(_READY_TIMEOUT_SECONDS), pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
        checks["postgres"] = "ok"
    except Exception as exc:
        checks["postgres"] = f"unavailable: {type(exc).__name__}"
    try:
        async with asyncio.timeout(_READY_TIMEOUT_SECONDS):
            ok = await temporal.service_client.check_health()
        checks["temporal"] = "ok" if ok else "unhealthy"
    except Exception as exc:
        checks["temporal"] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    status = 200 if ready else 503
    headers = {} if ready else {"Retry-After": "5"}
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=status,
        headers=headers,
    )

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import PoolDep, TemporalDep
from api.openapi import NO_BACKEND

router = APIRouter(tags=["Health"])

_READY_TIMEOUT_SECONDS = 3.0


class Liveness(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, str] = Field(
        description="`postgres` and `temporal`: `ok`, or why not (e.g. `unavailable: …`)"
    )


@router.get("/healthz", response_model=Liveness, openapi_extra=NO_BACKEND)
async def liveness() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={
        503: {
            "model": Readiness,
            "description": "PostgreSQL or Temporal is not reachable",
            "headers": {"Retry-After": {"schema": {"type": "string"}, "required": True}},
        }
    },
)
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

"""OAuth2 client-credentials token endpoint, as the Internet On-Demand API has it."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Header
from pydantic import BaseModel

from api.deps import PoolDep, SettingsDep
from api.openapi import problems
from api.problems import ErrorItem, Problem
from domain.secrets import new_access_token, token_digest, verify_secret
from store import clients

router = APIRouter(tags=["Authentication"])


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: str
    issued_at: str
    client_id: str
    status: Literal["approved"] = "approved"


def _invalid_client() -> Problem:
    return Problem(
        401,
        "Client authentication failed",
        errors=[
            ErrorItem(
                code="invalid_client",
                message="Unknown client id or wrong secret",
                field="Authorization",
            )
        ],
        headers={"WWW-Authenticate": 'Basic realm="iod"'},
    )


def _basic_credentials(header: str | None) -> tuple[str, str]:
    if not header or not header.lower().startswith("basic "):
        raise _invalid_client()
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_client() from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id:
        raise _invalid_client()
    return client_id, secret


@router.post(
    "/oauth/v2/token",
    response_model=TokenResponse,
    responses=problems(
        {
            400: "`grant_type` missing, or not `client_credentials` (`unsupported_grant_type`)",
            401: "Unknown client id or wrong secret (`invalid_client`); HTTP Basic credentials "
            "expected",
        }
    ),
)
async def issue_token(
    pool: PoolDep,
    settings: SettingsDep,
    grant_type: Annotated[
        str,
        Form(
            description="Must be client_credentials",
            json_schema_extra={"enum": ["client_credentials"]},
        ),
    ],
    authorization: Annotated[str | None, Header(description="Basic base64(id:secret)")] = None,
) -> TokenResponse:
    if grant_type != "client_credentials":
        raise Problem(
            400,
            "Only the client_credentials grant is supported",
            errors=[
                ErrorItem(
                    code="unsupported_grant_type",
                    message="grant_type must be client_credentials",
                    field="grant_type",
                )
            ],
        )
    client_id, secret = _basic_credentials(authorization)
    async with pool.acquire() as conn:
        client = await clients.find_client(conn, client_id)
        if client is None or not verify_secret(secret, client.secret_hash):
            raise _invalid_client()
        token = new_access_token()
        issued = datetime.now(UTC)
        expires = issued + timedelta(seconds=settings.access_token_ttl_seconds)
        await clients.insert_token(conn, token_digest(token), client, issued, expires)
    return TokenResponse(
        access_token=token,
        expires_in=str(settings.access_token_ttl_seconds),
        issued_at=str(int(issued.timestamp() * 1000)),
        client_id=client.client_id,
    )

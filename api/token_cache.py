"""A short-lived, in-process memory of who owns a bearer token.

Every authenticated request would otherwise look its token up in PostgreSQL. Tokens
are immutable once issued, so a hit is safe to reuse for a few seconds; expiry is still
checked on every request against the token's own ``expires_at``.
"""

from __future__ import annotations

import time

from store.clients import TokenOwner


class TokenOwnerCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._entries: dict[bytes, tuple[float, TokenOwner]] = {}

    def get(self, digest: bytes) -> TokenOwner | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        stored_at, owner = entry
        if time.monotonic() - stored_at > self._ttl:
            del self._entries[digest]
            return None
        return owner

    def put(self, digest: bytes, owner: TokenOwner) -> None:
        if self._ttl <= 0:
            return
        if len(self._entries) >= self._max:
            self._entries.clear()  # rare; a cold cache only costs a lookup per token
        self._entries[digest] = (time.monotonic(), owner)

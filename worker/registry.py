"""What the worker runs. Each feature adds its workflows and activity classes here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import httpx

from config.settings import Settings


def workflow_classes() -> Sequence[type]:
    return []


def activities_for(
    pool: asyncpg.Pool, http: httpx.AsyncClient, settings: Settings
) -> Sequence[Callable[..., Any]]:
    return []

"""The ``iod`` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from cli import commands
from config.settings import get_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iod", description="Internet On-Demand ordering platform")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("dev", help="run everything: embedded PostgreSQL and Temporal, worker, API")
    sub.add_parser("api", help="run the HTTP API (needs DATABASE_URL and TEMPORAL_ADDRESS)")
    sub.add_parser("worker", help="run a Temporal worker (needs DATABASE_URL and TEMPORAL_ADDRESS)")
    migrate = sub.add_parser(
        "migrate", help="apply database migrations and register search attributes"
    )
    migrate.add_argument("--seed-demo", action="store_true", help="also load the demo data")

    clients = sub.add_parser("clients", help="manage API clients").add_subparsers(
        dest="action", required=True
    )
    create = clients.add_parser("create", help="create an API client and print its credentials")
    create.add_argument("--customer", required=True, help="customer number, e.g. 1-ABCDE")
    create.add_argument("--name", help="customer name when the customer is new")
    create.add_argument("--client-id", help="client id (default: generated)")
    commands.add_more_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        code = asyncio.run(commands.dispatch(args, settings))
    except KeyboardInterrupt:
        code = 0
    # Leave without interpreter finalization: the Temporal SDK's native runtime threads
    # may still be winding down and can abort a finalizing interpreter (SIGABRT), which
    # would turn a successful command into a crash. Everything is flushed first.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()

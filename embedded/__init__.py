"""Embedded development servers: PostgreSQL from a PyPI wheel, Temporal's dev server."""

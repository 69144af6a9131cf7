"""The machine's PostgreSQL (127.0.0.1:5432, database ``test``) for the service's storage
tests: each test gets a schema of its own, dropped after, so concurrent runs on the one
database never meet. Tests that use it are marked ``database``."""

from __future__ import annotations

import uuid

from servers.needs import require

PG_BASE = "postgresql://{user}@127.0.0.1:5432/test"


def pg_admin_url() -> str:
    """A URL that reaches the ``test`` database (user postgres, else root)."""
    import psycopg  # imported here: only tests marked ``database`` need the driver working

    require("database", "a connection to PostgreSQL")
    for user in ("postgres", "root"):
        url = PG_BASE.format(user=user)
        try:
            with psycopg.connect(url, connect_timeout=3):
                return url
        except psycopg.OperationalError:
            continue
    raise RuntimeError("PostgreSQL at 127.0.0.1:5432 (database test) is not reachable")


def create_pg_schema() -> tuple[str, str]:
    """A fresh schema; the URL whose search_path is that schema, and the schema name."""
    import psycopg

    admin = pg_admin_url()
    schema = "cc_serve_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{admin}?options=-csearch_path%3D{schema}", schema


def drop_pg_schema(schema: str) -> None:
    """Drop a schema made by :func:`create_pg_schema`."""
    import psycopg

    with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

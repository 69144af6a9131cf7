"""``cryptocheck serve``: run the HTTP service, and manage its API tokens.

``cryptocheck serve [--host H] [--port P] [--database-url URL] [--config FILE]`` runs the
service (see docs/serve.md); ``cryptocheck serve token create --scope read|scan|admin`` makes
a token and prints it once (only its hash is stored).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from cryptocheck.cli.common import fail
from cryptocheck.service.config import ConfigError, ServeConfig, load_config


def _config(config_file: str | None, **overrides: Any) -> ServeConfig:
    try:
        return load_config(config_file, **overrides)
    except ConfigError as exc:
        fail(str(exc))


def _shared_config(ctx: click.Context, database_url: str | None,
                   config_file: str | None) -> ServeConfig:
    """The settings of a token command: its own options, else those given to ``serve``."""
    given: dict[str, str | None] = ctx.obj or {}
    return _config(config_file or given.get("config_file"),
                   database_url=database_url or given.get("database_url"))


_database_option = click.option(
    "--database-url", metavar="URL",
    help="sqlite:///FILE (default: sqlite:///cryptocheck-serve.db) or postgresql://...")
_config_option = click.option("--config", "config_file", type=click.Path(dir_okay=False),
                              help="Service configuration (TOML): allowlist, limits, workers.")


@click.group(invoke_without_command=True)
@click.option("--host", help="Address to listen on [default: 127.0.0.1].")
@click.option("--port", type=click.IntRange(0, 65535), help="Port to listen on [default: 8080].")
@_database_option
@_config_option
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, database_url: str | None,
          config_file: str | None) -> None:
    """Run the HTTP service: checks, durable scan jobs, the estate, a dashboard.

    Every endpoint but /healthz and /readyz needs a token: make one with
    `cryptocheck serve token create --scope read|scan|admin`. Network scans reach only the
    networks and hosts of the configuration's [allow] table (nothing by default).
    """
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"database_url": database_url, "config_file": config_file}
        return
    import uvicorn

    from cryptocheck.service.app import create_app

    config = _config(config_file, host=host, port=port, database_url=database_url)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(config)
    uvicorn.run(app, host=config.host, port=config.port, log_level="info",
                server_header=False, proxy_headers=False, timeout_graceful_shutdown=10)


@serve.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.option("--scope", type=click.Choice(["read", "scan", "admin"]), required=True,
              help="read: queries and reports; scan: also checks and scans; admin: everything.")
@click.option("--name", default="token", show_default=True, help="A label for the token.")
@_database_option
@_config_option
@click.pass_context
def create(ctx: click.Context, scope: str, name: str, database_url: str | None,
           config_file: str | None) -> None:
    """Create a token and print it (once: only its hash is stored)."""
    from cryptocheck.service.security import create_token
    from cryptocheck.service.storage import Database

    config = _shared_config(ctx, database_url, config_file)
    db = Database(config.database_url)
    db.migrate()
    click.echo(create_token(db, scope, name))


@token.command("revoke")
@click.argument("name")
@_database_option
@_config_option
@click.pass_context
def revoke(ctx: click.Context, name: str, database_url: str | None,
           config_file: str | None) -> None:
    """Revoke every token with label NAME."""
    from cryptocheck.service.storage import Database

    config = _shared_config(ctx, database_url, config_file)
    db = Database(config.database_url)
    db.migrate()
    with db.transaction() as tx:
        count = tx.run("UPDATE tokens SET revoked = 1 WHERE name = ?", (name,))
    click.echo(f"revoked {count} token(s)")

"""The service's settings: a TOML file (``--config``) plus command-line overrides.

Safe by default: no network target and no server-side directory may be scanned until the
operator lists them (``[allow]``), requests are bounded in size, tokens in rate. Example::

    host = "127.0.0.1"
    port = 8080
    database_url = "postgresql://cryptocheck@db/cryptocheck"
    database_pool_size = 10     # connections this process may hold open
    workers = 2                 # jobs run at once by this process
    max_running_jobs = 8        # jobs run at once by all processes sharing the database
    lease_seconds = 30          # a job whose process stops renewing its lease is taken over

    [allow]
    networks = ["10.0.0.0/8", "2001:db8::/32"]
    hosts = ["example.org", "*.internal.example.org"]
    paths = ["/srv/pki"]        # directories `certs` scans may read on the server

    [limits]
    max_request_bytes = 10485760
    max_targets_per_job = 1000
    rate_limit_per_minute = 600
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_DATABASE = "sqlite:///cryptocheck-serve.db"


class ConfigError(ValueError):
    """A configuration file that cannot be used (its name and the problem)."""


@dataclass(frozen=True)
class ServeConfig:
    """Every setting of the service, with its default."""

    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = DEFAULT_DATABASE
    workers: int = 2
    database_pool_size: int = 10
    max_running_jobs: int = 8
    lease_seconds: float = 30.0
    poll_seconds: float = 1.0
    schedule_poll_seconds: float = 5.0
    allow_networks: tuple[str, ...] = ()
    allow_hosts: tuple[str, ...] = ()
    allow_paths: tuple[str, ...] = ()
    max_request_bytes: int = 10 * 1024 * 1024
    max_targets_per_job: int = 1000
    rate_limit_per_minute: int = 600
    min_schedule_seconds: int = 60
    session_hours: int = 8
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


_TOP = {"host": str, "port": int, "database_url": str, "workers": int, "database_pool_size": int,
        "max_running_jobs": int, "lease_seconds": float, "poll_seconds": float,
        "schedule_poll_seconds": float, "min_schedule_seconds": int, "session_hours": int}
_ALLOW = {"networks": "allow_networks", "hosts": "allow_hosts", "paths": "allow_paths"}
_LIMITS = {"max_request_bytes": int, "max_targets_per_job": int, "rate_limit_per_minute": int}


def _typed(name: str, value: Any, kind: type, file: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ConfigError(f"{file}: {name} must be a {kind.__name__}")
    if isinstance(value, (int, float)) and value <= 0:
        raise ConfigError(f"{file}: {name} must be positive")
    return value


def load_config(path: str | None, **overrides: Any) -> ServeConfig:
    """The settings from ``path`` (a TOML file; None: defaults), then ``overrides`` (None
    values ignored). Unknown keys are an error, so that a misspelt allowlist is not
    silently empty."""
    values: dict[str, Any] = {}
    if path:
        try:
            data = tomllib.loads(Path(path).read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: TOML syntax: {exc}") from None
        for key, value in data.items():
            if key in _TOP:
                values[key] = _typed(key, value, _TOP[key], path)
            elif key == "allow" and isinstance(value, dict):
                for name, item in value.items():
                    if name not in _ALLOW or not isinstance(item, list) or not all(
                            isinstance(v, str) for v in item):
                        raise ConfigError(f"{path}: allow.{name}: expected one of "
                                          f"{', '.join(_ALLOW)} as a list of strings")
                    values[_ALLOW[name]] = tuple(item)
            elif key == "limits" and isinstance(value, dict):
                for name, item in value.items():
                    if name not in _LIMITS:
                        raise ConfigError(f"{path}: unknown limit {name!r}")
                    values[name] = _typed(f"limits.{name}", item, _LIMITS[name], path)
            else:
                raise ConfigError(f"{path}: unknown setting {key!r}")
    config = ServeConfig(**values)
    known = {f.name for f in fields(ServeConfig)}
    return replace(config, **{k: v for k, v in overrides.items() if v is not None and k in known})

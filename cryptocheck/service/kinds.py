"""Scan kinds and what a scan request may ask for.

The kinds are the sources of :mod:`cryptocheck.sources.registry`: a source registered there is
a scan kind here, with its options, whether it opens connections and what a request may tune,
all read from its record. A request is checked completely before a job is queued (kind,
targets against the allowlist, limits, policy, date, options), so that a queued job can only
fail on what the scan meets. :func:`run_request` runs a checked request through the one
pipeline, :func:`cryptocheck.run.scan`: the synchronous checks and the jobs both call it.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import ipaddress
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from cryptocheck.model import Report
from cryptocheck.policy import Policy, load_policy, shipped_policy_ids
from cryptocheck.report import Reporter
from cryptocheck.run import bind, scan
from cryptocheck.service.config import ServeConfig
from cryptocheck.service.security import CIDR_TARGET, Allowlist, TargetRefused
from cryptocheck.service.uploads import upload_name, upload_stream
from cryptocheck.sources.files import SourceStats
from cryptocheck.sources.registry import Item, get_source, source_names


def available_kinds() -> list[str]:
    """The kinds this server runs: every registered source."""
    return list(source_names())


class RequestError(ValueError):
    """A request the service will not run; ``code`` is a stable short reason."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def _options(kind: str, raw: Any) -> dict[str, Any]:
    """The kind's options from the request, checked against what its source record
    lets a request tune (``Source.tunable``)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise RequestError("bad-options", "options must be an object")
    source = get_source(kind)
    defaults = source.option_defaults()
    allowed = {name: rule for name, rule in source.tunable.items() if name in defaults}
    chosen: dict[str, Any] = {}
    for name, value in raw.items():
        rule = allowed.get(name)
        if rule is None:
            raise RequestError("bad-options", f"unknown option {name!r} for kind {kind} "
                                              f"(known: {', '.join(sorted(allowed)) or 'none'})")
        if rule is bool:
            if not isinstance(value, bool):
                raise RequestError("bad-options", f"option {name!r} must be true or false")
        elif isinstance(rule, tuple):
            if value not in rule:
                raise RequestError("bad-options", f"option {name!r} must be one of: "
                                                  f"{', '.join(rule)}")
        else:
            default = defaults[name]
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or (isinstance(default, int) and not isinstance(value, int))
                    or not 0 < value <= default):
                raise RequestError("bad-options", f"option {name!r} must be a number above "
                                                  f"0 and at most {default}")
        chosen[name] = value
    return chosen


def _allowed_path(target: str, roots: tuple[str, ...]) -> bool:
    real = os.path.realpath(target)
    return any(real == os.path.realpath(root) or
               real.startswith(os.path.realpath(root).rstrip(os.sep) + os.sep) for root in roots)


def decode_files(raw: Any) -> list[tuple[str, bytes]]:
    """Uploaded files of a JSON request: ``[{"name": ..., "content": base64}]``."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise RequestError("bad-files", "files must be a list of {name, content (base64)}")
    files: list[tuple[str, bytes]] = []
    for index, item in enumerate(raw):
        if (not isinstance(item, dict) or not isinstance(item.get("content"), str)
                or set(item) - {"name", "content"}):
            raise RequestError("bad-files", f"files[{index}] must be {{name, content "
                                            "(base64)}")
        name = item.get("name", f"upload-{index}")
        if not isinstance(name, str) or not name.strip():
            raise RequestError("bad-files", f"files[{index}].name must be a string")
        try:
            data = base64.b64decode(item["content"], validate=True)
        except (binascii.Error, ValueError):
            raise RequestError("bad-files", f"files[{index}].content is not base64") from None
        files.append((upload_name(name), data))
    return files


def validate_scan(body: Any, config: ServeConfig, allowlist: Allowlist) -> dict[str, Any]:
    """The normalised request of a scan, or :class:`RequestError` / :class:`TargetRefused`."""
    if not isinstance(body, dict):
        raise RequestError("bad-request", "the body must be a JSON object")
    unknown = set(body) - {"kind", "targets", "files", "policy", "as_of", "options"}
    if unknown:
        raise RequestError("bad-request", f"unknown field(s): {', '.join(sorted(unknown))}")
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in source_names():
        raise RequestError("bad-kind", f"kind must be one of: {', '.join(source_names())}")
    network = get_source(kind).network
    targets = body.get("targets", [])
    if not isinstance(targets, list) or not all(isinstance(t, str) and t for t in targets):
        raise RequestError("bad-targets", "targets must be a list of non-empty strings")
    files = decode_files(body.get("files"))
    if network and files:
        raise RequestError("bad-files", f"kind {kind} scans targets, not files")
    if not targets and not files:
        raise RequestError("no-targets", "give at least one target or file")
    _check_count(len(targets) + len(files), config)  # before resolving any name
    for target in targets:
        if network:
            allowlist.check(target)
        elif not _allowed_path(target, config.allow_paths):
            raise TargetRefused(target, "not inside a directory the server may read "
                                        "(allow.paths in the serve configuration)")
    # A network block counts as the addresses it holds (a /8 is sixteen million targets).
    _check_count(target_count({"kind": kind, "targets": targets, "files": files}), config)
    policy = check_policy(body.get("policy"))
    as_of = check_date(body.get("as_of"))
    options = _options(kind, body.get("options"))
    return {"kind": kind, "targets": targets,
            "files": [{"name": n, "content": base64.b64encode(d).decode()} for n, d in files],
            "policy": policy, "as_of": as_of, "options": options}


def _check_count(count: int, config: ServeConfig) -> None:
    if count > config.max_targets_per_job:
        raise RequestError("too-many-targets", f"{count} targets: this server takes at most "
                                               f"{config.max_targets_per_job} per job")


def target_count(request: dict[str, Any]) -> int:
    """How many targets a scan request names: files, paths, and the addresses of network
    targets (a CIDR block counts as its size)."""
    network = get_source(request["kind"]).network
    return len(request["files"]) + sum(target_size(t) if network else 1
                                       for t in request["targets"])


def target_size(target: str) -> int:
    """How many addresses a target names (a CIDR block: its size; anything else: one)."""
    match = CIDR_TARGET.match(target.strip().split("://", 1)[-1])
    if not match:
        return 1
    try:
        return int(ipaddress.ip_network(match.group(1), strict=False).num_addresses)
    except ValueError:
        return 1


def check_policy(policy: Any) -> str | None:
    """A shipped policy id (files on the server are not the caller's to name)."""
    if policy is None:
        return None
    if not isinstance(policy, str) or policy not in shipped_policy_ids():
        raise RequestError("bad-policy", f"policy must be a shipped policy id "
                                         f"({', '.join(shipped_policy_ids())})")
    return policy


@functools.lru_cache(maxsize=32)
def shipped_policy(policy_id: str | None) -> Policy:
    """A shipped policy (None: the default), loaded once per process: policies ship with the
    package and do not change under a running server, and loading one costs far more than
    judging a certificate."""
    return load_policy(policy_id)


def check_date(value: Any) -> str | None:
    """A YYYY-MM-DD date, or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise RequestError("bad-date", "as_of must be a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise RequestError("bad-date", f"{value!r} is not a date (YYYY-MM-DD)") from None


def run_request(request: dict[str, Any], files: Sequence[tuple[str, bytes]],
                reporters: list[Reporter], *,
                passwords: tuple[str, ...] = (),
                watch: Callable[[Iterator[Item]], Iterator[Item]] | None = None) -> Report:
    """Run a checked request (:func:`validate_scan`; its ``files`` here decoded, as (name,
    content) pairs) through :func:`cryptocheck.run.scan`.

    The source's record gives the options (the request's, checked) and binds the policy and
    date it needs; its stream over the uploads (:func:`.uploads.upload_stream`) and the
    request's targets, waivers found in the input included, is judged
    by the one run. ``passwords`` go to a source whose options take them (PKCS#12, JKS and
    encrypted keys); ``watch`` wraps the stream (a job's progress and cancel checks).
    """
    source = get_source(request["kind"])
    options = source.options(**request["options"])
    if passwords and "passwords" in {f.name for f in dataclasses.fields(options)}:
        options = dataclasses.replace(options, passwords=passwords)
    policy_id = request.get("policy")
    day = date.fromisoformat(request["as_of"]) if request.get("as_of") else (
        datetime.now(UTC).date())
    bound = bind(source, options, lambda: shipped_policy(policy_id), day)
    stats = SourceStats()
    with upload_stream(source, files, request["targets"], bound, stats) as items:
        return scan(source, [name for name, _ in files] + list(request["targets"]),
                    policy=shipped_policy(policy_id), as_of=day, reporters=reporters,
                    items=watch(items) if watch else items, stats=stats)

"""Scan kinds and what a scan request may ask for.

``certs`` reads uploaded files (and, when the operator allows, server directories); ``tls``,
``ssh`` and ``config`` come from their own packages (``cryptocheck.sources.tls.iter_tls_items`` and so
on) and are offered as soon as those are installed: nothing here changes when they land.
A request is checked completely before a job is queued (kind, targets against the allowlist,
limits, policy, date, options), so that a queued job can only fail on what the scan meets.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import importlib
import io
import ipaddress
import os
import tarfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

from cryptocheck.model import Asset, RunError
from cryptocheck.policy import Policy, load_policy, shipped_policy_ids
from cryptocheck.service.config import ServeConfig
from cryptocheck.service.security import CIDR_TARGET, Allowlist, TargetRefused
from cryptocheck.sources.files import SourceOptions, SourceStats, iter_assets
from cryptocheck.sources.files.walk import scan_bytes


@dataclass(frozen=True)
class Kind:
    """A scan kind: where its item stream comes from and whether it opens connections."""

    name: str
    network: bool
    module: str | None = None
    function: str | None = None
    options_class: str | None = None


KINDS = {
    "certs": Kind("certs", False),
    "tls": Kind("tls", True, "cryptocheck.sources.tls", "iter_tls_items", "TlsOptions"),
    "ssh": Kind("ssh", True, "cryptocheck.sources.ssh", "iter_ssh_items", "SshOptions"),
    "config": Kind("config", False, "cryptocheck.sources.config", "iter_config_items", "ConfigOptions"),
}

ItemSource = Callable[..., Iterator[Asset | RunError]]


def kind_entry(kind: str) -> tuple[ItemSource, type[Any]] | None:
    """The item source and options class of a kind from its package, or None if the
    package does not provide them (yet)."""
    spec = KINDS.get(kind)
    if spec is None or spec.module is None or spec.function is None or spec.options_class is None:
        return None
    try:
        module = importlib.import_module(spec.module)
    except ImportError:
        return None
    source = getattr(module, spec.function, None)
    options = getattr(module, spec.options_class, None)
    if source is None or options is None:
        return None
    return source, options


def available_kinds() -> list[str]:
    """The kinds this server can run now."""
    return [name for name in KINDS if name == "certs" or kind_entry(name) is not None]


class RequestError(ValueError):
    """A request the service will not run; ``code`` is a stable short reason."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


# What a caller may tune, per kind: limits and timeouts only downwards (a number may not
# exceed the scanner's own default, so no request makes a scan harsher on the network or
# the server), switches, and named choices. Anything else (ports, trust anchors, file
# paths, rates) stays the operator's. A field the scanner does not have is not offered.
LOWER = "lower"
TUNABLE: dict[str, dict[str, Any]] = {
    "certs": {"max_file_size": LOWER},
    "tls": {"mode": ("full", "compliance"), "connect_timeout": LOWER, "read_timeout": LOWER,
            "retries": LOWER, "per_host": LOWER, "target_timeout": LOWER,
            "concurrency": LOWER},
    "ssh": {"timeout": LOWER, "target_timeout": LOWER, "concurrency": LOWER,
            "per_host": LOWER, "host_keys": bool, "gex": bool},
    "config": {"max_file_size": LOWER, "gitignore": bool, "vendored": bool,
               "inline_waivers": bool},
}


def _defaults(kind: str) -> dict[str, Any]:
    if kind == "certs":
        cls: Any = SourceOptions
    else:
        entry = kind_entry(kind)
        assert entry is not None
        cls = entry[1]
    return {f.name: f.default for f in dataclasses.fields(cls)}


def _options(kind: str, raw: Any) -> dict[str, Any]:
    """The kind's options from the request, checked against :data:`TUNABLE`."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise RequestError("bad-options", "options must be an object")
    defaults = _defaults(kind)
    allowed = {name: rule for name, rule in TUNABLE[kind].items() if name in defaults}
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


def upload_name(name: str) -> str:
    """An uploaded file's name as reports show it: its last component, printable."""
    base = PurePosixPath(name.replace("\\", "/")).name or "upload"
    return "".join(ch if ch.isprintable() else "_" for ch in base)[:200]


def validate_scan(body: Any, config: ServeConfig, allowlist: Allowlist) -> dict[str, Any]:
    """The normalised request of a scan, or :class:`RequestError` / :class:`TargetRefused`."""
    if not isinstance(body, dict):
        raise RequestError("bad-request", "the body must be a JSON object")
    unknown = set(body) - {"kind", "targets", "files", "policy", "as_of", "options"}
    if unknown:
        raise RequestError("bad-request", f"unknown field(s): {', '.join(sorted(unknown))}")
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise RequestError("bad-kind", f"kind must be one of: {', '.join(KINDS)}")
    targets = body.get("targets", [])
    if not isinstance(targets, list) or not all(isinstance(t, str) and t for t in targets):
        raise RequestError("bad-targets", "targets must be a list of non-empty strings")
    files = decode_files(body.get("files"))
    if KINDS[kind].network and files:
        raise RequestError("bad-files", f"kind {kind} scans targets, not files")
    if not targets and not files:
        raise RequestError("no-targets", "give at least one target or file")
    _check_count(len(targets) + len(files), config)  # before resolving any name
    for target in targets:
        if KINDS[kind].network:
            allowlist.check(target)
        elif not _allowed_path(target, config.allow_paths):
            raise TargetRefused(target, "not inside a directory the server may read "
                                        "(allow.paths in the serve configuration)")
    # A network block counts as the addresses it holds (a /8 is sixteen million targets).
    _check_count(target_count({"kind": kind, "targets": targets, "files": files}), config)
    # Targets are judged before availability, so that a refusal does not depend on which
    # scanners happen to be installed.
    if kind not in available_kinds():
        raise RequestError("kind-unavailable", f"kind {kind} is not available on this server "
                                               f"(available: {', '.join(available_kinds())})")
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
    network = KINDS[request["kind"]].network
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


def upload_items(files: Iterable[tuple[str, bytes]], options: SourceOptions,
                 stats: SourceStats) -> Iterator[Asset | RunError]:
    """Certificates and keys in uploaded files (archives inside are entered)."""
    for name, data in files:
        yield from scan_bytes(data, name, options, stats)


def scan_items(request: dict[str, Any], workdir: Path,
               stats: SourceStats) -> tuple[list[str], Iterator[Asset | RunError]]:
    """The report's target names and the item stream of a validated request."""
    kind = request["kind"]
    files = [(f["name"], base64.b64decode(f["content"])) for f in request["files"]]
    targets: list[str] = list(request["targets"])
    options = request["options"]
    if kind == "certs":
        source_options = SourceOptions(**options)
        names = [name for name, _ in files] + targets

        def certs() -> Iterator[Asset | RunError]:
            yield from upload_items(files, source_options, stats)
            if targets:
                yield from iter_assets(targets, source_options, stats)
        return names, certs()
    entry = kind_entry(kind)
    if entry is None:
        raise RequestError("kind-unavailable", f"kind {kind} is not available on this server")
    source, options_class = entry
    fields = {f.name for f in dataclasses.fields(options_class)}
    # The scanner judges (compliance mode, inline waivers) with the job's policy and date.
    if "policy" in fields:
        options = {**options, "policy": shipped_policy(request.get("policy"))}
    if "as_of" in fields and request.get("as_of"):
        options = {**options, "as_of": date.fromisoformat(request["as_of"])}
    if "approves" in fields and options.get("mode") == "compliance":
        from cryptocheck.policy.engine import approver

        day = date.fromisoformat(request["as_of"]) if request.get("as_of") else date.today()
        options = {**options, "approves": approver(shipped_policy(request.get("policy")), day)}
    if kind == "config":
        paths: list[str] = []
        labels: list[tuple[str, str]] = []
        for i, (name, data) in enumerate(files):
            folder = workdir / str(i)
            written = unpack(name, data, folder)
            paths.append(str(written))
            # Reports name what was uploaded, not the server's temporary directory:
            # ``nginx.conf``, or ``repo.tar.gz!repo/etc/nginx/nginx.conf`` for a member.
            labels.append((str(folder) + os.sep, "" if written != folder else f"{name}!"))
        return ([name for name, _ in files] + targets,
                relabel(source(paths + targets, options_class(**options)), labels))
    return targets, source(targets, options_class(**options))


def relabel(items: Iterable[Asset | RunError],
            labels: list[tuple[str, str]]) -> Iterator[Asset | RunError]:
    """Items with the temporary directory prefixes of ``labels`` in their paths (and ids, so
    that the same upload gives the same ids scan after scan) replaced by the labels."""
    for item in items:
        path = item.location.path
        for prefix, label in labels:
            if path is None or not path.startswith(prefix):
                continue
            location = dataclasses.replace(item.location, path=label + path[len(prefix):])
            if isinstance(item, RunError):
                item = dataclasses.replace(item, location=location,
                                           message=item.message.replace(prefix, label))
            else:
                item = dataclasses.replace(item, location=location,
                                           id=item.id.replace(prefix, label))
            break
        yield item


MAX_MEMBERS = 10_000
MAX_UNPACKED = 256 * 1024 * 1024


def unpack(name: str, data: bytes, into: Path) -> Path:
    """An uploaded file written under ``into``; a tar or zip archive is unpacked there
    (regular files only, no absolute or ``..`` paths, bounded in count and size)."""
    into.mkdir(parents=True, exist_ok=True)
    members: list[tuple[str, bytes]] = []
    total = 0
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist()[:MAX_MEMBERS]:
                total += info.file_size
                if info.is_dir() or total > MAX_UNPACKED:
                    continue
                members.append((info.filename, archive.read(info)))
    else:
        try:
            tar = tarfile.open(fileobj=io.BytesIO(data))  # noqa: SIM115 - closed below
        except tarfile.TarError:
            target = into / upload_name(name)
            target.write_bytes(data)
            return target
        with tar:
            for count, member in enumerate(tar):
                if count >= MAX_MEMBERS:
                    break
                total += member.size
                if not member.isfile() or total > MAX_UNPACKED:
                    continue
                handle = tar.extractfile(member)
                if handle is not None:
                    members.append((member.name, handle.read()))
    for member_name, content in members:
        parts = [p for p in PurePosixPath(member_name.replace("\\", "/")).parts
                 if p not in ("", ".", "..", "/")]
        if not parts:
            continue
        path = into.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return into

"""Text inputs: PEM bundles and PEM blocks inside any text, Kubernetes TLS Secrets (YAML or
JSON, base64 ``data``), and SSH public keys (key-list files or quoted in other text)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from typing import Any

import yaml

from cryptocheck.model import Asset, RunError
from cryptocheck.sources.files import keys, openssh, pem
from cryptocheck.sources.files.context import FileContext
from cryptocheck.sources.files.x509 import certificate_asset, pkcs7_assets

_CERT_LABELS = {"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"}
_PKCS7_LABELS = {"PKCS7", "CMS", "PKCS #7 SIGNED DATA"}
_CSR_LABELS = {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"}
# Blocks that hold no key or certificate of their own: not items, not errors.
_IGNORED_LABELS = {"EC PARAMETERS", "DH PARAMETERS", "DSA PARAMETERS", "X9.42 DH PARAMETERS",
                   "X509 CRL", "SSL SESSION PARAMETERS"}
_K8S_KEYS = ("tls.crt", "ca.crt", "tls.key")
_MAX_YAML = 8 * 1024**2  # larger YAML/JSON is scanned for PEM text only


def pem_items(data: bytes, ctx: FileContext, check_edges: bool = False,
              line: int | None = None) -> Iterator[Asset | RunError]:
    """One asset or error per PEM block (and per problem) found in ``data``.

    ``line`` overrides block line numbers, for PEM decoded out of a base64 YAML value whose
    own lines mean nothing in the file.
    """
    for event in pem.scan(data, check_edges):
        where = line if line is not None else event.line
        if isinstance(event, pem.PemProblem):
            yield ctx.error(event.reason, event.message, where)
        else:
            yield from _block_items(event, ctx, where)


def _block_items(block: pem.PemBlock, ctx: FileContext,
                 line: int) -> Iterator[Asset | RunError]:
    label = block.label
    if label in _CERT_LABELS:
        yield certificate_asset(block.der, ctx, line, "PEM")
    elif label in _PKCS7_LABELS:
        yield from pkcs7_assets(block.der, ctx, line, pem=False)
    elif label in keys.PEM_PRIVATE_KINDS:
        legacy = None
        if "ENCRYPTED" in (block.header("Proc-Type") or "").upper():
            legacy = (block.header("DEK-Info") or "unknown").split(",")[0].strip() or "unknown"
        yield keys.private_key_asset(block.der, keys.PEM_PRIVATE_KINDS[label], ctx, line,
                                     pem_text=block.text, legacy_cipher=legacy)
    elif label == "OPENSSH PRIVATE KEY":
        yield openssh.openssh_private_key(block.der, ctx, line)
    elif label == "PUBLIC KEY":
        yield keys.public_key_asset(block.der, "spki", ctx, line)
    elif label == "RSA PUBLIC KEY":
        yield keys.public_key_asset(block.der, "pkcs1-public", ctx, line)
    elif label in _CSR_LABELS:
        yield keys.csr_public_key(block.der, ctx, line)
    elif label not in _IGNORED_LABELS:
        yield ctx.error("unsupported-format", f"PEM block type {label!r} is not supported",
                        line)


def text_items(data: bytes, ctx: FileContext, check_edges: bool) -> Iterator[Asset | RunError]:
    """Everything a text file holds: PEM blocks, Kubernetes TLS Secrets, SSH public keys."""
    if pem.has_pem(data):
        yield from pem_items(data, ctx, check_edges)
    if b"tls.crt" in data or b"tls.key" in data or b"ca.crt" in data:
        yield from kubernetes_items(data, ctx)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    if not pem.has_pem(data) and openssh.looks_like_ssh_file(text, ctx.path):
        yield from openssh.public_key_lines(text, ctx)
    else:
        yield from openssh.embedded_public_keys(text, ctx)


def _documents(data: bytes) -> list[Any]:
    """The documents of a YAML or JSON file; [] when it is neither (or is unsafe to load)."""
    if len(data) > _MAX_YAML:
        return []
    stripped = data.lstrip()
    try:
        if stripped[:1] in (b"{", b"["):
            return [json.loads(data)]
        # PyYAML's safe loader still expands aliases, so a few lines can grow exponentially
        # ("billion laughs"); Secrets never need aliases, so refuse files that use them.
        if any(isinstance(t, yaml.AliasToken) for t in yaml.scan(data)):
            return []
        return list(yaml.safe_load_all(data))
    except (ValueError, yaml.YAMLError, RecursionError):
        return []


def _secrets(document: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(document, dict):
        return
    if document.get("kind") == "List" and isinstance(document.get("items"), list):
        for item in document["items"]:
            yield from _secrets(item)
    elif document.get("kind") == "Secret" and isinstance(document.get("data"), dict):
        yield document


def kubernetes_items(data: bytes, ctx: FileContext) -> Iterator[Asset | RunError]:
    """Certificates and keys in the base64 ``data`` of Kubernetes Secrets.

    ``kubernetes.io/tls`` Secrets carry ``tls.crt``/``tls.key`` (and often ``ca.crt``);
    other Secret types holding those names are read too, since the content is the same.
    """
    search_from = 0
    for document in _documents(data):
        for secret in _secrets(document):
            # Lines of this Secret's keys, searched from where the previous Secret ended.
            found = {name: _line_of(data, name, search_from) for name in _K8S_KEYS
                     if isinstance(secret["data"].get(name), str)}
            search_from = max((end for _, end in found.values()), default=search_from)
            for name in sorted(found, key=lambda n: found[n][0] or 0):
                value = secret["data"][name]
                line = found[name][0]
                if not value.strip():
                    continue
                try:
                    decoded = base64.b64decode("".join(value.split()), validate=True)
                except (binascii.Error, ValueError):
                    yield ctx.error("malformed-pem", f"Secret data {name!r} is not base64", line)
                    continue
                if pem.has_pem(decoded):
                    yield from pem_items(decoded, ctx, line=line)
                else:
                    yield ctx.error("unsupported-format",
                                    f"Secret data {name!r} holds no PEM block", line)


def _line_of(data: bytes, name: str, start: int) -> tuple[int | None, int]:
    """Line of the next ``name:`` key after ``start`` (best effort; None if not found)."""
    match = re.compile(rb"[\"']?" + re.escape(name.encode()) + rb"[\"']?\s*:").search(
        data, start)
    if match is None:
        return None, start
    return data.count(b"\n", 0, match.start()) + 1, match.end()

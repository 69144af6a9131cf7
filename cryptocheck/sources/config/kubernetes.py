"""Kubernetes YAML: ingress-nginx settings and ``kubernetes.io/tls`` Secrets.

Read, in every document of a (multi-document) YAML file:

- a ConfigMap's ``ssl-protocols``, ``ssl-ciphers``, ``ssl-ecdh-curve``, ``proxy-ssl-protocols``,
  ``proxy-ssl-ciphers`` (ingress-nginx's controller configuration, which it writes into nginx's
  ``ssl_*`` directives);
- the same names as annotations (``nginx.ingress.kubernetes.io/ssl-ciphers``...) on any
  object, usually an Ingress;
- a Secret of type ``kubernetes.io/tls``: its ``tls.crt`` (``data``, base64, or
  ``stringData``) is read by the core certificate code; ``tls.key`` is never read.

Locations are those of the value's key in the file (line and column from the YAML parser).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Any

import yaml

from cryptocheck.model import Asset, RunError
from cryptocheck.sources.config import settings
from cryptocheck.sources.config.settings import FileContext

_INGRESS_PREFIX = "nginx.ingress.kubernetes.io/"
# libyaml's loader when PyYAML was built with it (same nodes and marks, several times faster).
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_KEYS = ("ssl-protocols", "ssl-ciphers", "ssl-ecdh-curve", "proxy-ssl-protocols",
         "proxy-ssl-ciphers")


def _mapping(node: yaml.Node | None) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """key -> (key node, value node) of a YAML mapping node (empty for anything else)."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            out[str(key.value)] = (key, value)
    return out


def _scalar(node: yaml.Node | None) -> str | None:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def parse(ctx: FileContext, text: str) -> Iterator[Asset | RunError]:
    """The TLS settings and certificates of one Kubernetes YAML file."""
    if "ssl-" not in text and "kubernetes.io/tls" not in text:
        return  # nothing this parser reads: spare the YAML parse
    try:
        documents = list(yaml.compose_all(text, Loader=_LOADER))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        yield ctx.error("malformed-config", f"kubernetes: YAML: {getattr(exc, 'problem', exc)}",
                        mark.line + 1 if mark is not None else None)
        return
    for document in documents:
        top = _mapping(document)
        kind = _scalar(top.get("kind", (None, None))[1])
        metadata = _mapping(top.get("metadata", (None, None))[1])
        name = _scalar(metadata.get("name", (None, None))[1]) or "-"
        scope = f"{kind or 'object'}/{name}"
        annotations = _mapping(metadata.get("annotations", (None, None))[1])
        for key, (key_node, value_node) in annotations.items():
            if key.startswith(_INGRESS_PREFIX) and key[len(_INGRESS_PREFIX):] in _KEYS:
                yield from _setting(ctx, key, key[len(_INGRESS_PREFIX):], key_node, value_node, scope)
        if kind == "ConfigMap":
            for key, (key_node, value_node) in _mapping(top.get("data", (None, None))[1]).items():
                if key in _KEYS:
                    yield from _setting(ctx, key, key, key_node, value_node, scope)
        elif kind == "Secret":
            secret_type = _scalar(top.get("type", (None, None))[1])
            if secret_type == "kubernetes.io/tls":
                yield from _secret(ctx, top, scope)


def _setting(ctx: FileContext, directive: str, key: str, key_node: yaml.Node,
             value_node: yaml.Node, scope: str) -> Iterator[Asset | RunError]:
    value = _scalar(value_node)
    if value is None:
        return
    details: dict[str, Any]
    if key.endswith("ssl-protocols"):
        names = [settings.protocol_name(w) for w in value.split()]
        details = settings.protocol_details(n for n in names if n)
    elif key.endswith("ssl-ciphers"):
        details = settings.cipher_details(value)
    else:
        details = settings.group_details(value)
    line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
    yield ctx.setting(line, column, directive, value, scope, details)


def _secret(ctx: FileContext, top: dict[str, tuple[yaml.Node, yaml.Node]],
            scope: str) -> Iterator[Asset | RunError]:
    for section, encoded in (("data", True), ("stringData", False)):
        entries = _mapping(top.get(section, (None, None))[1])
        if "tls.crt" not in entries:
            continue
        key_node, value_node = entries["tls.crt"]
        line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
        value = _scalar(value_node) or ""
        if encoded:
            try:
                data = base64.b64decode("".join(value.split()), validate=True)
            except (binascii.Error, ValueError):
                yield ctx.error("malformed-base64", f"{scope}: tls.crt is not base64", line,
                                None, column)
                continue
        else:
            data = value.encode()
        yield from ctx.certificate_bytes(data, line, column, f"{scope} tls.crt")

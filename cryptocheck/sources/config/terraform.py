"""Terraform (HCL, parsed with python-hcl2): TLS policies and key specs of cloud resources.

Read: AWS ``aws_lb_listener``/``aws_alb_listener`` ``ssl_policy`` (through the published
ELB policy tables), ``aws_cloudfront_distribution`` ``viewer_certificate``
``minimum_protocol_version``, ``aws_opensearch_domain``/``aws_elasticsearch_domain``
``domain_endpoint_options`` ``tls_security_policy``, ``aws_api_gateway_domain_name``
``security_policy`` (and ``aws_apigatewayv2_domain_name``), an HTTPS/TLS listener without
``ssl_policy`` (the API's default, ELBSecurityPolicy-2016-08), ``aws_acm_certificate``
``key_algorithm``, ``aws_kms_key`` ``customer_master_key_spec``/``key_spec``; every Azure
``min_tls_version``/``minimum_tls_version``/``ssl_minimal_tls_version_enforced`` (storage,
app service, SQL, Redis, PostgreSQL, MySQL...); Google ``google_compute_ssl_policy``
(``profile``, ``min_tls_version``, ``custom_features``). An unknown policy name is kept as
written with no usages but the ``profile`` (so the policy sees it as unknown). The line and
column are those of the attribute in the file (found after the resource's header).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cryptocheck.catalog.cloud_keys import key_spec
from cryptocheck.model import Asset, RunError
from cryptocheck.sources.config import settings
from cryptocheck.sources.config.cloud import policy_details
from cryptocheck.sources.config.settings import FileContext

ELB_API_DEFAULT = "ELBSecurityPolicy-2016-08"
_MIN_TLS_KEYS = ("min_tls_version", "minimum_tls_version", "ssl_minimal_tls_version_enforced",
                 "minimal_tls_version", "minimum_tls_version_enforced")


# Attribute names of every setting read below: a file with none of them has nothing to judge.
_RELEVANT = re.compile(r"\b(?:(?:ssl_policy|minimum_protocol_version|tls_security_policy|"
                       r"security_policy|key_algorithm|customer_master_key_spec|key_spec|"
                       r"min_tls_version|minimum_tls_version|ssl_minimal_tls_version_enforced|"
                       r"minimal_tls_version|minimum_tls_version_enforced)\s*[={]|"
                       r'google_compute_ssl_policy|protocol\s*=\s*"(?:HTTPS|TLS)")')


def _tls_version(text: str) -> str | None:
    """``TLS1_2``, ``1.2``, ``TLS_1_2``, ``TLSv1.2`` -> ``TLSv1.2``."""
    match = re.search(r"(\d)[._](\d)", text)
    if match is None:
        return None
    return settings.protocol_name(f"tlsv{match.group(1)}.{match.group(2)}")


class _Locator:
    """Finds where an attribute of a resource is written."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(self, rtype: str, name: str, attribute: str) -> tuple[int, int]:
        header = re.compile(rf'^\s*resource\s+"{re.escape(rtype)}"\s+"{re.escape(name)}"')
        attr = re.compile(rf"^(\s*){re.escape(attribute)}\s*=")
        start = next((i for i, line in enumerate(self.lines) if header.match(line)), None)
        if start is None:
            return 1, 1
        for i in range(start, len(self.lines)):
            if i > start and re.match(r"^\s*(resource|data|module)\s", self.lines[i]):
                break
            found = attr.match(self.lines[i])
            if found:
                return i + 1, len(found.group(1)) + 1
        return start + 1, 1


def _blocks(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _unquote(value: Any) -> str:
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def parse(ctx: FileContext, text: str) -> Iterator[Asset | RunError]:
    """The TLS and key settings of one Terraform file."""
    if _RELEVANT.search(text) is None:
        return  # nothing this parser reads: spare the (slow) HCL parse
    import hcl2
    from lark.exceptions import LarkError

    try:
        data = hcl2.loads(text)
    except (LarkError, ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
        line = getattr(exc, "line", None)
        yield ctx.error("malformed-config", f"terraform: cannot parse: {str(exc).splitlines()[0]}",
                        line if isinstance(line, int) else None)
        return
    where = _Locator(text)
    for group in data.get("resource", []):
        for rtype_q, named in group.items():
            rtype = _unquote(rtype_q)
            for name_q, body in named.items():
                name = _unquote(name_q)
                if isinstance(body, dict):
                    yield from _resource(ctx, where, rtype, name, body)


def _resource(ctx: FileContext, where: _Locator, rtype: str, name: str,
              body: dict[str, Any]) -> Iterator[Asset]:
    scope = f"{rtype}.{name}"

    def setting(attribute: str, value: str, details: dict[str, Any]) -> Asset:
        line, column = where.find(rtype, name, attribute)
        return ctx.setting(line, column, f"{scope}.{attribute}", value, scope, details)

    def profile(attribute: str, value: Any, service: str | None) -> Iterator[Asset]:
        text = _unquote(value)
        details = policy_details(text, service) or {"profile": text, "unknown_profile": True}
        yield setting(attribute, text, details)

    if rtype in ("aws_lb_listener", "aws_alb_listener") and "ssl_policy" in body:
        yield from profile("ssl_policy", body["ssl_policy"], None)
    elif rtype in ("aws_lb_listener", "aws_alb_listener") \
            and _unquote(body.get("protocol", "")).upper() in ("HTTPS", "TLS"):
        # No ssl_policy: the API (which Terraform calls) applies ELBSecurityPolicy-2016-08
        # (AWS ELB guide, "Security policies", considerations).
        line, column = where.find(rtype, name, "protocol")
        defaulted = policy_details(ELB_API_DEFAULT) or {}
        defaulted["default"] = True
        yield ctx.setting(line, column, f"{scope}.ssl_policy (default)", ELB_API_DEFAULT, scope,
                          defaulted)
    elif rtype == "aws_cloudfront_distribution":
        for block in _blocks(body.get("viewer_certificate")):
            if "minimum_protocol_version" in block:
                yield from profile("minimum_protocol_version", block["minimum_protocol_version"],
                                   "cloudfront")
    elif rtype in ("aws_opensearch_domain", "aws_elasticsearch_domain"):
        for block in _blocks(body.get("domain_endpoint_options")):
            if "tls_security_policy" in block:
                yield from profile("tls_security_policy", block["tls_security_policy"], None)
    elif rtype == "aws_api_gateway_domain_name" and "security_policy" in body:
        yield from profile("security_policy", body["security_policy"], "apigateway")
    elif rtype == "aws_apigatewayv2_domain_name":
        for block in _blocks(body.get("domain_name_configuration")):
            if "security_policy" in block:
                yield from profile("security_policy", block["security_policy"], "apigateway")
    elif rtype == "aws_acm_certificate" and "key_algorithm" in body:
        yield from _key(setting, "key_algorithm", _unquote(body["key_algorithm"]),
                        "certificate.public-key")
    elif rtype == "aws_kms_key":
        for attribute in ("customer_master_key_spec", "key_spec"):
            if attribute in body:
                yield from _key(setting, attribute, _unquote(body[attribute]), "private-key")
    elif rtype == "google_compute_ssl_policy":
        minimum = _tls_version(_unquote(body.get("min_tls_version", "TLS_1_0"))) or "TLSv1.0"
        protocols = settings.protocol_range(minimum, "TLSv1.3")
        chosen = _unquote(body.get("profile", "COMPATIBLE"))
        attribute = "profile" if "profile" in body else "min_tls_version"
        if chosen == "CUSTOM":
            features = [_unquote(f) for f in body.get("custom_features", [])]
            details: dict[str, Any] = {"profile": "CUSTOM", "cipher_suites": features,
                                       **settings.protocol_details(protocols)}
            yield setting("custom_features" if "custom_features" in body else attribute,
                          ",".join(features), details)
        else:
            details = policy_details(chosen, "gcp-ssl-policy", protocols) or {
                "profile": chosen, "unknown_profile": True}
            yield setting(attribute, chosen, details)
    for key in _MIN_TLS_KEYS:
        yield from _min_tls(setting, body, key, rtype)
    for nested in body.values():
        if isinstance(nested, list):
            for block in _blocks(nested):
                for key in _MIN_TLS_KEYS:
                    if key in block:
                        yield from _min_tls(setting, block, key, rtype)


def _min_tls(setting: Any, body: dict[str, Any], key: str, rtype: str) -> Iterator[Asset]:
    if key not in body or rtype == "google_compute_ssl_policy":
        return
    value = _unquote(body[key])
    minimum = _tls_version(value)
    if minimum is None:
        return
    asset: Asset = setting(key, value, settings.protocol_details(
        settings.protocol_range(minimum, "TLSv1.3")))
    yield asset


def _key(setting: Any, attribute: str, spec: str, context: str) -> Iterator[Asset]:
    known = key_spec(spec)  # catalog/data/cloud-key-specs.toml
    if known is None:
        return  # symmetric and HMAC key specs: no public-key choice to judge
    asset: Asset = setting(attribute, spec, {"keys": [{
        "context": context, "algorithm": known.algorithm, "key_size": known.key_size,
        "curve": known.curve, "format": spec}]})
    yield asset

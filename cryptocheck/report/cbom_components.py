"""The CycloneDX 1.6 components of a CBOM: what each asset and algorithm becomes.

An asset is one ``cryptographic-asset`` component whose ``bom-ref`` is the asset id: a
certificate (``assetType: certificate``, subject, issuer, validity, references to its
signature algorithm and its public key, which gets a ``related-crypto-material`` component
of its own), a key (``related-crypto-material``), a TLS or SSH endpoint and a configuration
setting (``protocol``, with the versions and cipher suites judged). An algorithm in use is
one ``algorithm`` component with its ``cryptoProperties`` (primitive, parameter set, curve,
mode, classical and NIST quantum security levels, OID), named by :func:`algorithm_ref`.

The policy's verdicts ride along as ``properties`` (CycloneDX's name-value extension point;
the specification has no field for a policy verdict): on each component
``cryptocheck:status`` (the worst status not waived), ``cryptocheck:rule`` and
``cryptocheck:citation`` of the finding that decided it. An asset's component lists every
finding on it (``cryptocheck:finding:N:rule``/``status``/``severity``/``context``/
``citation``/``fingerprint``, and ``waiver``), so nothing of the JSON report's verdicts is
lost; an algorithm's component gives the count per status (``cryptocheck:findings:STATUS``)
and each distinct verdict once (``cryptocheck:verdict:N:rule``/``status``/``citation``).
:mod:`cryptocheck.report.cbom` puts the components into one document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from cryptocheck.model import (
    Asset,
    CertificateAsset,
    ConfigAsset,
    CryptoUsage,
    EndpointAsset,
    Finding,
    KeyAsset,
)
from cryptocheck.report import accepted_protocols, asset_name, finding_fingerprint
from cryptocheck.report.wire import clean_text, iso_date, utc_timestamp

_PREFIX = "cryptocheck"

# NIST PQC security categories of the standard parameter sets (FIPS 203 §8 Table 2,
# FIPS 204 §4 Table 1, FIPS 205 §11 Table 2): what nistQuantumSecurityLevel means.
_PQC_LEVELS = {"ML-KEM-512": 1, "ML-KEM-768": 3, "ML-KEM-1024": 5, "ML-DSA-44": 2,
               "ML-DSA-65": 3, "ML-DSA-87": 5}
_SLH_LEVEL = re.compile(r"^SLH-DSA-(?:SHA2|SHAKE)-(128|192|256)[sf]$")
_MODES = ("cbc", "ecb", "ccm", "gcm", "cfb", "ofb", "ctr")

_SIGNATURE_KEYS = frozenset({"RSA-PSS", "DSA", "EC", "ECDSA", "Ed25519", "Ed448"})
_KEY_AGREEMENT = frozenset({"DH", "DHE", "ECDH", "ECDHE", "X25519", "X448"})


def primitive(usage: CryptoUsage) -> str:
    """The CycloneDX primitive of a usage, from its context and algorithm name."""
    context, name = usage.context, usage.algorithm
    upper = name.upper()
    if "MLKEM" in upper.replace("-", "") or "SNTRUP" in upper or upper.startswith("ML-KEM"):
        return "kem"
    if context in ("certificate.signature", "certificate.self-signature", "ssh.host-key",
                   "tls.signature-scheme"):
        return "signature"
    if context in ("certificate.public-key", "public-key", "private-key"):
        if name in _KEY_AGREEMENT:
            return "key-agree"
        if name == "RSA":
            return "pke"
        if name in _SIGNATURE_KEYS or upper.startswith(("ML-DSA", "SLH-DSA")):
            return "signature"
        return "unknown"
    if context in ("tls.group", "tls.dh-parameters", "ssh.kex", "ssh.gex-modulus"):
        return "key-agree"
    if context == "tls.key-exchange":
        return "pke" if name == "RSA" else "key-agree"
    if context == "ssh.mac":
        return "mac"
    if context in ("ssh.cipher", "private-key.protection"):
        lower = name.lower()
        if "gcm" in lower or "poly1305" in lower or "ccm" in lower:
            return "ae"
        if "rc4" in lower or "arcfour" in lower or lower.startswith("chacha"):
            return "stream-cipher"
        return "block-cipher" if lower not in ("none", "") else "other"
    if context == "tls.cipher-suite":
        return "ae" if usage.attribute("aead") is True else "combiner"
    return "other" if context.startswith(("tls.", "ssh.")) else "unknown"


def _mode(usage: CryptoUsage) -> str | None:
    mode = usage.attribute("mode")
    text = (str(mode) if mode else usage.algorithm).lower()
    for candidate in _MODES:
        if re.search(rf"(^|[-_ ]){candidate}($|[-_ @0-9])", text) or text == candidate:
            return candidate
    return None


def quantum_level(usage: CryptoUsage) -> int | None:
    """NIST PQC category: 0 when a quantum computer breaks it, the parameter set's category
    for ML-KEM/ML-DSA/SLH-DSA, the symmetric category (AES-128/192/256) otherwise."""
    if usage.quantum_vulnerable:
        return 0
    for name in (usage.algorithm, usage.curve or ""):
        if name in _PQC_LEVELS:
            return _PQC_LEVELS[name]
        slh = _SLH_LEVEL.match(name)
        if slh:
            return {"128": 1, "192": 3, "256": 5}[slh.group(1)]
    if usage.quantum_vulnerable is False and usage.strength is not None:
        return 5 if usage.strength >= 256 else 3 if usage.strength >= 192 else (
            1 if usage.strength >= 128 else 0)
    return None


def _algorithm_name(usage: CryptoUsage) -> str:
    parts = [usage.algorithm]
    if usage.curve and usage.curve.lower() != usage.algorithm.lower():
        parts.append(usage.curve)
    elif usage.key_size is not None and usage.context not in ("tls.cipher-suite",):
        parts.append(str(usage.key_size))
    if usage.hash and usage.context != "ssh.mac":
        parts.append(usage.hash)
    return "-".join(parts)


def algorithm_ref(usage: CryptoUsage) -> str:
    """The ``bom-ref`` of the algorithm component a usage belongs to: primitive, name (with
    size or curve and hash) and OID, so usages of one algorithm across assets share it."""
    slug = re.sub(r"[^A-Za-z0-9._@-]+", "_", _algorithm_name(usage))
    return f"algorithm:{primitive(usage)}:{slug}:{usage.oid or ''}"


def is_algorithm(usage: CryptoUsage) -> bool:
    """Whether a usage gets an algorithm component (else its verdict stays on its asset)."""
    # Protocol versions, validity periods and "no compression" are judged but are not
    # algorithms: their verdicts stay on the asset's own component.
    return usage.context not in ("tls.protocol", "certificate.validity", "ssh.compression")


def _citation(finding: Finding) -> str:
    return " | ".join(
        f"{c}{' <' + c.url + '>' if c.url else ''}{' [' + c.confirmation + ']' if c.confirmation else ''}"
        for c in finding.citations) or "none (no rule of the policy applies)"


def prop(name: str, value: object) -> dict[str, str]:
    """One CycloneDX property ``cryptocheck:NAME`` with ``value`` as UTF-8-safe text."""
    return {"name": f"{_PREFIX}:{name}", "value": clean_text(str(value)) or ""}


def _verdict_properties(findings: Sequence[Finding]) -> list[dict[str, str]]:
    """The worst verdict (not waived, else waived) and every finding, as properties."""
    props: list[dict[str, str]] = []
    if findings:
        judged = [f for f in findings if not f.waived] or list(findings)
        worst = max(judged, key=lambda f: f.status.rank)
        props += [prop("status", worst.status.value), prop("rule", worst.rule),
                  prop("citation", _citation(worst))]
    else:
        props.append(prop("status", "none"))
    for index, finding in enumerate(findings):
        key = f"finding:{index}"
        props += [prop(f"{key}:fingerprint", finding_fingerprint(finding)),
                  prop(f"{key}:asset", finding.asset_id),
                  prop(f"{key}:context", finding.usage.context),
                  prop(f"{key}:rule", finding.rule),
                  prop(f"{key}:status", finding.status.value),
                  prop(f"{key}:severity", finding.severity),
                  prop(f"{key}:message", finding.message),
                  prop(f"{key}:citation", _citation(finding))]
        if finding.waiver is not None:
            w = finding.waiver
            props.append(prop(f"{key}:waiver",
                               f"{w.id} owner {w.owner} expires {iso_date(w.expires)}: {w.reason}"))
    return props


def algorithm_component(usage: CryptoUsage, findings: Sequence[Finding]) -> dict[str, Any]:
    """The ``algorithm`` component of ``usage``'s algorithm, with the verdicts of every
    finding on a usage of it."""
    props: dict[str, Any] = {"primitive": primitive(usage)}
    if usage.key_size is not None:
        props["parameterSetIdentifier"] = str(usage.key_size)
    if usage.curve:
        props["curve"] = usage.curve
    mode = _mode(usage)
    if mode:
        props["mode"] = mode
    if usage.strength is not None:
        props["classicalSecurityLevel"] = usage.strength
    level = quantum_level(usage)
    if level is not None:
        props["nistQuantumSecurityLevel"] = level
    crypto: dict[str, Any] = {"assetType": "algorithm", "algorithmProperties": props}
    if usage.oid:
        crypto["oid"] = usage.oid
    return {
        "type": "cryptographic-asset",
        "bom-ref": algorithm_ref(usage),
        "name": clean_text(_algorithm_name(usage)),
        "cryptoProperties": crypto,
        "properties": _algorithm_verdicts(findings),
    }


def _algorithm_verdicts(findings: Sequence[Finding]) -> list[dict[str, str]]:
    """An algorithm used across an estate can carry thousands of findings: its component
    gets the worst verdict, the count per status and each (rule, status, citation) once;
    each finding in full is on the component of the asset it was found on."""
    props = _verdict_properties(findings)[:3]
    counts: dict[str, int] = {}
    decided: dict[tuple[str, str], Finding] = {}
    for finding in findings:
        counts[finding.status.value] = counts.get(finding.status.value, 0) + 1
        decided.setdefault((finding.rule, finding.status.value), finding)
    props += [prop(f"findings:{status}", n) for status, n in sorted(counts.items())]
    for index, ((rule, status), finding) in enumerate(decided.items()):
        props += [prop(f"verdict:{index}:rule", rule), prop(f"verdict:{index}:status", status),
                  prop(f"verdict:{index}:citation", _citation(finding))]
    return props


def asset_refs(findings: Sequence[Finding]) -> dict[str, str]:
    """The algorithm components an asset's findings refer to: ``usage:REF`` for each one it
    uses, and the roles a certificate or key names (``signature``, ``key``, ``protection``)."""
    refs: dict[str, str] = {}
    for f in findings:
        if not is_algorithm(f.usage):
            continue
        ref = algorithm_ref(f.usage)
        refs[f"usage:{ref}"] = ref
        if f.usage.context in ("certificate.signature", "certificate.self-signature"):
            refs.setdefault("signature", ref)
        elif f.usage.context in ("certificate.public-key", "public-key", "private-key"):
            refs.setdefault("key", ref)
        elif f.usage.context == "private-key.protection" and f.usage.algorithm != "none":
            refs.setdefault("protection", ref)
    return refs


def _location_props(asset: Asset) -> list[dict[str, str]]:
    return [prop("asset-id", asset.id), prop("asset-type", asset.type),
            prop("location", asset.location)]


def asset_components(asset: Asset, findings: Sequence[Finding],
                     refs: dict[str, str]) -> list[dict[str, Any]]:
    """The component(s) of one asset: a certificate also gets its public key's component."""
    base = {"type": "cryptographic-asset", "bom-ref": asset.id,
            "name": clean_text(asset_name(asset)) or asset.id}
    props = _location_props(asset) + _verdict_properties(findings)
    if isinstance(asset, CertificateAsset):
        key_ref = f"{asset.id}:public-key"
        cert: dict[str, Any] = {
            "subjectName": clean_text(asset.subject), "issuerName": clean_text(asset.issuer),
            "notValidBefore": utc_timestamp(asset.not_before),
            "notValidAfter": utc_timestamp(asset.not_after),
            "subjectPublicKeyRef": key_ref, "certificateFormat": "X.509",
        }
        if "signature" in refs:
            cert["signatureAlgorithmRef"] = refs["signature"]
        key_material: dict[str, Any] = {"type": "public-key", "id": asset.spki_sha256,
                                        "format": "SubjectPublicKeyInfo"}
        if asset.key_size is not None:
            key_material["size"] = asset.key_size
        if "key" in refs:
            key_material["algorithmRef"] = refs["key"]
        key_component = {
            "type": "cryptographic-asset", "bom-ref": key_ref,
            "name": f"{asset.key_algorithm} public key of {clean_text(asset.subject) or asset.id}",
            "cryptoProperties": {"assetType": "related-crypto-material",
                                 "relatedCryptoMaterialProperties": key_material,
                                 "oid": asset.key_oid},
            "properties": [prop("asset-id", asset.id), prop("spki-sha256", asset.spki_sha256)],
        }
        props += [prop("sha256", asset.sha256), prop("serial", asset.serial),
                  prop("signature-algorithm", asset.signature_algorithm)]
        return [base | {"cryptoProperties": {"assetType": "certificate",
                                             "certificateProperties": cert},
                        "properties": props}, key_component]
    if isinstance(asset, KeyAsset):
        material: dict[str, Any] = {"type": asset.type, "format": asset.format}
        if asset.spki_sha256:
            material["id"] = asset.spki_sha256
        if asset.key_size is not None:
            material["size"] = asset.key_size
        if "key" in refs:
            material["algorithmRef"] = refs["key"]
        if "protection" in refs:
            material["securedBy"] = {"mechanism": asset.protection or "encryption",
                                     "algorithmRef": refs["protection"]}
        crypto: dict[str, Any] = {"assetType": "related-crypto-material",
                                  "relatedCryptoMaterialProperties": material}
        if asset.key_oid:
            crypto["oid"] = asset.key_oid
        return [base | {"cryptoProperties": crypto, "properties": props}]
    return [base | {"cryptoProperties": {"assetType": "protocol",
                                         "protocolProperties": _protocol(asset, findings, refs)},
                    "properties": props + _endpoint_props(asset)}]


def _protocol(asset: EndpointAsset | ConfigAsset, findings: Sequence[Finding],
              refs: dict[str, str]) -> dict[str, Any]:
    contexts = {f.usage.context.split(".")[0] for f in findings}
    if isinstance(asset, EndpointAsset):
        kind = "tls" if asset.type == "tls-endpoint" else "ssh"
    else:
        kind = "tls" if "tls" in contexts else "ssh" if "ssh" in contexts else "other"
    versions = [f.usage.algorithm for f in findings if f.usage.context == "tls.protocol"]
    if not versions and isinstance(asset, EndpointAsset):
        versions = accepted_protocols(asset)
    if kind == "ssh" and not versions:
        versions = ["2.0"]
    suites: dict[str, list[str]] = {}
    for f in findings:
        if f.usage.context == "tls.cipher-suite":
            suites.setdefault(f.usage.algorithm, [])
            ref = refs.get(f"usage:{algorithm_ref(f.usage)}")
            if ref and ref not in suites[f.usage.algorithm]:
                suites[f.usage.algorithm].append(ref)
    protocol: dict[str, Any] = {"type": kind}
    if versions:
        protocol["version"] = ", ".join(dict.fromkeys(versions))
    if suites:
        protocol["cipherSuites"] = [{"name": name, "algorithms": algs} if algs else {"name": name}
                                    for name, algs in suites.items()]
    algorithm_refs = sorted({v for k, v in refs.items() if k.startswith("usage:")})
    if algorithm_refs:
        protocol["cryptoRefArray"] = algorithm_refs
    return protocol


def _endpoint_props(asset: EndpointAsset | ConfigAsset) -> list[dict[str, str]]:
    if isinstance(asset, EndpointAsset):
        props = [prop("service", asset.service)]
        if asset.address:
            props.append(prop("address", asset.address))
        protocols = accepted_protocols(asset)
        if protocols:
            props.append(prop("protocols-accepted", ", ".join(protocols)))
        return props
    props = [prop("config-kind", asset.kind), prop("directive", asset.directive),
             prop("value", asset.value)]
    if asset.scope:
        props.append(prop("scope", asset.scope))
    return props

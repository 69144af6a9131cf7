"""SSH assets -> crypto usages, in the contexts of docs/contexts.md (``ssh.*``).

A server that offers ``diffie-hellman-group1-sha1`` and an ``sshd_config`` line
``KexAlgorithms diffie-hellman-group1-sha1`` give the same ``ssh.kex`` usage, built by
:func:`algorithm_usages`, so one rule judges both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

from cryptocheck import catalog
from cryptocheck.catalog import ssh as ssh_catalog
from cryptocheck.model import ConfigAsset, CryptoUsage, Location

CONTEXTS = {
    "kex": "ssh.kex",
    "host-key": "ssh.host-key",
    "cipher": "ssh.cipher",
    "mac": "ssh.mac",
    "compression": "ssh.compression",
}
GEX_CONTEXT = "ssh.gex-modulus"

Attributes = tuple[tuple[str, bool | int | str | None], ...]


def algorithm_usages(kind: str, name: str, direction: str | None = None, *,
                     key_size: int | None = None, asset_id: str = "",
                     location: Location | None = None,
                     extra: Iterable[tuple[str, bool | int | str | None]] = ()
                     ) -> list[CryptoUsage]:
    """The usages of SSH algorithm ``name`` of ``kind`` (kex, host-key, cipher, mac,
    compression), in the catalogue's canonical parts.

    Why: the same function judges a live server's offer and a configuration line. An
    extension marker (``ext-info-c``, ``kex-strict-s-v00@openssh.com``) exchanges no keys
    and gives no usage; a name the catalogue does not know gives one usage with nothing but
    its name (the policy then says ``unknown``). ``key_size`` is the size of the host key
    actually seen. Callers that build usages for an asset pass ``asset_id`` and
    ``location`` (or ``dataclasses.replace`` them in).

    >>> [u.hash for u in algorithm_usages("kex", "diffie-hellman-group1-sha1")]
    ['SHA-1']
    """
    if kind not in CONTEXTS:
        raise ValueError(f"unknown SSH algorithm kind {kind!r}")
    where = location or Location()
    attributes: list[tuple[str, bool | int | str | None]] = list(extra)
    if direction is not None:
        attributes.append(("direction", direction))
    alg = ssh_catalog.algorithm(kind, name)
    if alg is None:
        return [CryptoUsage(asset_id=asset_id, context=CONTEXTS[kind], algorithm=name,
                            location=where, attributes=tuple(sorted(attributes)))]
    if alg.family == "marker":
        return []
    size = alg.key_size
    strength = alg.strength
    found_curve = catalog.curve(alg.curve) if alg.curve else None
    curve = found_curve.name if found_curve else alg.curve
    if kind == "kex":
        attributes.append(("kx", alg.family))
        if alg.group:
            attributes.append(("group", alg.group))
        if alg.pq:
            attributes.append(("pq", alg.pq))
    elif kind == "host-key":
        attributes.append(("au", alg.family))
        attributes.append(("certificate", alg.cert))
        if key_size is not None:
            size = key_size
        if alg.family and alg.family not in ("none", "XMSS"):
            strength = catalog.key_strength(alg.family, size, curve)
            if alg.hash:
                hash_strength = catalog.hash_collision_strength(alg.hash)
                if strength is not None and hash_strength is not None:
                    strength = min(strength, hash_strength)
    elif kind == "cipher":
        attributes += [("cipher", alg.family), ("mode", alg.mode), ("aead", alg.aead)]
        if alg.block_size:
            attributes.append(("block_size", alg.block_size))
    elif kind == "mac":
        attributes += [("mac", alg.family), ("etm", alg.etm)]
        if alg.tag_bits is not None:
            attributes.append(("tag_bits", alg.tag_bits))
        if alg.family == "none":
            strength = 0
    return [CryptoUsage(
        asset_id=asset_id, context=CONTEXTS[kind], algorithm=alg.name, location=where,
        key_size=size, curve=curve, hash=alg.hash, strength=strength,
        quantum_vulnerable=alg.quantum_vulnerable,
        attributes=tuple(sorted(attributes, key=lambda pair: pair[0])),
    )]


def gex_usage(bits: int, *, asset_id: str = "", location: Location | None = None) -> CryptoUsage:
    """The usage of a Diffie-Hellman group-exchange modulus of ``bits`` bits."""
    return CryptoUsage(asset_id=asset_id, context=GEX_CONTEXT, algorithm="DH",
                       location=location or Location(), key_size=bits,
                       strength=catalog.key_strength("DH", bits),
                       quantum_vulnerable=catalog.quantum_vulnerable("DH"))


# sshd_config / ssh_config keywords (lower case) whose value is an algorithm list.
LIST_DIRECTIVES = {
    "kexalgorithms": "kex",
    "gssapikexalgorithms": "kex",
    "hostkeyalgorithms": "host-key",
    "pubkeyacceptedalgorithms": "host-key",
    "pubkeyacceptedkeytypes": "host-key",
    "hostbasedacceptedalgorithms": "host-key",
    "hostbasedacceptedkeytypes": "host-key",
    "hostbasedkeytypes": "host-key",
    "casignaturealgorithms": "host-key",
    "ciphers": "cipher",
    "macs": "mac",
}


def config_usages(asset: ConfigAsset) -> Iterator[CryptoUsage]:
    """The usages of one ``sshd``/``ssh`` ConfigAsset: one per algorithm of the effective
    list the setting gives (``details["effective"]``, with ``+``/``-``/``^`` applied and the
    defaults of the OpenSSH version filled in), each with the setting's file and line.

    Names written in the setting that the version's table does not support
    (``details["unsupported"]``) are judged too: another OpenSSH version may enable them.
    A setting that an earlier one overrides (``details["ignored"]``) enables nothing."""
    if asset.kind not in ("sshd", "ssh"):
        return
    kind = asset.details.get("algorithm_kind")
    effective = asset.details.get("effective")
    if not kind or not isinstance(effective, list) or asset.details.get("ignored"):
        return
    extra = (("kind", asset.kind),)
    unsupported = asset.details.get("unsupported") or []
    for name in dict.fromkeys([*effective, *unsupported]):
        for usage in algorithm_usages(kind, str(name), extra=extra):
            yield dataclasses.replace(usage, asset_id=asset.id, location=asset.location)

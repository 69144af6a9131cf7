"""Certification paths among the certificates given, and the weakest link of each.

Paths are built by name chaining (issuer == subject), refined by key identifiers when both
are present (authorityKeyIdentifier == subjectKeyIdentifier), the way RFC 4158 §3.5 suggests
to pick among candidates. Only paths of two or more certificates are reported: a lone root or
a lone leaf whose issuer was not given is not a chain.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence

from cryptocheck.model import CertificateAsset, Chain, Finding, Status


def build_chains(certificates: Sequence[CertificateAsset],
                 findings_by_asset: Mapping[str, Sequence[Finding]]) -> tuple[Chain, ...]:
    """Every path from a leaf (a certificate that issued none of the others) upwards.

    Why: a strong leaf under a SHA-1 or RSA-1024 intermediate is only as strong as that
    intermediate; the chain's weakest link is what a relying party gets.
    """
    unique: dict[str, CertificateAsset] = {}
    for cert in certificates:
        unique.setdefault(cert.sha256, cert)
    certs = list(unique.values())
    by_subject: dict[str, list[CertificateAsset]] = defaultdict(list)
    for cert in certs:
        by_subject[cert.subject].append(cert)

    def issuer_of(cert: CertificateAsset) -> CertificateAsset | None:
        if cert.self_signed:
            return None
        candidates = [c for c in by_subject.get(cert.issuer, ()) if c.sha256 != cert.sha256]
        if cert.authority_key_id:
            keyed = [c for c in candidates if c.subject_key_id == cert.authority_key_id]
            if keyed:
                candidates = keyed
            elif all(c.subject_key_id for c in candidates):
                candidates = []
        # Prefer a CA certificate, then the first given: deterministic.
        candidates.sort(key=lambda c: (not c.is_ca,))
        return candidates[0] if candidates else None

    issuers = {cert.sha256: issuer_of(cert) for cert in certs}
    issued_something = {i.sha256 for i in issuers.values() if i is not None}
    chains: list[Chain] = []
    for leaf in certs:
        if leaf.sha256 in issued_something:
            continue
        path = [leaf]
        seen = {leaf.sha256}
        current = issuers[leaf.sha256]
        while current is not None and current.sha256 not in seen:
            path.append(current)
            seen.add(current.sha256)
            current = issuers[current.sha256]
        if len(path) < 2:
            continue
        chains.append(_chain(path, findings_by_asset))
    return tuple(chains)


def _chain(path: list[CertificateAsset], findings_by_asset: Mapping[str, Sequence[Finding]]) -> Chain:
    worst: Finding | None = None
    for cert in path:
        for finding in findings_by_asset.get(cert.id, ()):
            if finding.waived:
                continue
            if worst is None or finding.status.rank > worst.status.rank:
                worst = finding
    ident = hashlib.sha256("/".join(c.sha256 for c in path).encode()).hexdigest()[:16]
    return Chain(
        id=f"chain-{ident}",
        certificates=tuple(c.id for c in path),
        complete=path[-1].self_signed,
        weakest_status=worst.status if worst else Status.APPROVED,
        weakest_asset=worst.asset_id if worst else path[0].id,
        weakest_rule=worst.rule if worst else "",
    )


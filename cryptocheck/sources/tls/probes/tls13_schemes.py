"""TLS 1.3 signature schemes, and the TLS 1.3 chain, from cryptocheck's own handshake.

TLS 1.3 signature schemes are in the CertificateVerify, which is encrypted: :mod:`..tls13` makes
the handshake (a real key share, the key schedule, record decryption) as far as that message,
and the schemes are removed one by one as for TLS 1.2. Its first handshake gives the TLS 1.3
chain and OCSP stapling too (pyOpenSSL is the fallback where that handshake cannot be made).
A CertificateVerify whose signature does not verify with the leaf's key is a note: its scheme
is still recorded, as what the server answered.

A full scan starts as soon as a HelloRetryRequest shows TLS 1.3 (``tls13-seen``), beside the
enumeration of the suites. Compliance mode makes one handshake offering only the schemes the
policy flags.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Iterator
from typing import Any, Literal

from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.model import CryptoUsage, EndpointAsset
from cryptocheck.sources.probe import COMPLIANCE, FULL, Probe
from cryptocheck.sources.tls import usages as tls_usages
from cryptocheck.sources.tls.connection import Endpoint, ProbeError
from cryptocheck.sources.tls.facts import (
    LEGACY_SUITES,
    SCHEMES,
    EndpointFacts,
    ProbeContext,
    chosen_suite,
    guarded,
    hello_spec,
)

Outcome = Literal["made", "refused", "no-tls13", "failed"]
_TLS13 = "cryptocheck.sources.tls.tls13"


async def _import_tls13() -> None:
    """:mod:`..tls13` imports cryptography: import it in a worker thread, so that the probes
    waiting in the event loop are not held up (another thread may be importing it already)."""
    if _TLS13 not in sys.modules:
        await asyncio.to_thread(importlib.import_module, _TLS13)


def _share_groups(facts: EndpointFacts, shareable: tuple[int, ...]) -> tuple[int, ...]:
    """The groups to offer in a TLS 1.3 handshake, the one to make a key share for first:
    x25519 unless the groups found so far show that the server prefers another one it can be
    made for. The others follow, so that a HelloRetryRequest can still ask for one of them."""
    known = [g for g in facts.groups.get("TLSv1.3", []) if g in shareable]
    first = known[0] if known and shareable[0] not in known else shareable[0]
    return (first, *(g for g in shareable if g != first))


async def enumerate_tls13_schemes(ep: Endpoint, facts: EndpointFacts,
                                  candidates: tuple[int, ...], max_found: int | None = None
                                  ) -> tuple[Outcome, str]:
    """TLS 1.3 signature schemes from the CertificateVerify, removing each one found: (accepted
    + 1) handshakes; every handshake also gives the chain it served and its OCSP stapling.

    Returns ``made`` when at least one handshake reached the CertificateVerify, ``refused``
    when the first was refused (``no-tls13``: with an older version), ``failed`` when it could
    not be made; with the reason."""
    await _import_tls13()
    from cryptocheck.sources.tls import key_schedule, key_share, tls13

    found = facts.schemes.setdefault("TLSv1.3", [])
    remaining = [s for s in candidates if s not in found]
    groups = _share_groups(facts, key_share.KEY_SHARE_GROUPS)
    outcome: tuple[Outcome, str] = ("refused", "nothing to offer")
    while remaining:
        try:
            auth = await tls13.server_auth(ep, hello_spec(ep, 0x0304, tuple(key_schedule.SUITES), groups,
                                                     remaining))
        except tls13.HandshakeRefused as exc:
            if outcome[0] != "made":
                outcome = ("no-tls13" if exc.no_tls13 else "refused", f"refused ({exc})")
            break
        except ProbeError as exc:  # a note, as for the chain before: the scan has its results
            if outcome[0] == "made":
                facts.notes.append(f"TLS 1.3 signature schemes: {exc.message}")
            else:
                outcome = ("failed", exc.message)
            break
        outcome = ("made", "")
        facts.observe_chain(auth.certificates, auth.ocsp_stapled)
        if auth.verified is not True:
            facts.notes.append(_unverified_note(auth.signature_scheme, auth.verified,
                                                auth.verification))
        groups = (auth.group, *(g for g in groups if g != auth.group))
        if auth.signature_scheme not in remaining:
            facts.notes.append(f"TLS 1.3: the server signed with scheme "
                               f"0x{auth.signature_scheme:04X}, which was not offered")
            break
        found.append(auth.signature_scheme)
        remaining.remove(auth.signature_scheme)
        if max_found is not None and len(found) >= max_found:
            break
    if not found:
        facts.schemes.pop("TLSv1.3", None)
    return outcome


def _unverified_note(scheme: int, verified: bool | None, why: str) -> str:
    """The note for a CertificateVerify whose signature did not verify (or could not be
    checked): the scheme is still recorded, as what the server answered, but it is only a claim."""
    known = tls_catalog.signature_scheme(scheme)
    name = f"{known.name} (0x{scheme:04X})" if known else f"0x{scheme:04X}"
    outcome = "did not verify" if verified is False else "could not be verified"
    return f"TLS 1.3: the CertificateVerify signature with scheme {name} {outcome}: {why}"


async def pyopenssl_chain(ep: Endpoint, facts: EndpointFacts) -> None:
    from cryptocheck.sources.tls.certs import fetch_chain

    try:
        chain, stapled = await fetch_chain(ep)
    except ProbeError as exc:
        facts.notes.append(f"certificate chain not read: {exc.message}")
        return
    facts.observe_chain(chain, stapled)


async def tls13_schemes_and_chain(ep: Endpoint, facts: EndpointFacts, have_chain: bool
                                  ) -> None:
    """Every TLS 1.3 signature scheme, and the TLS 1.3 chain and stapling with them; when
    cryptocheck's own handshake cannot be made, a note, and the chain from pyOpenSSL (unless
    ``have_chain``: TLS 1.2 showed one)."""
    facts.chain_fetched = True
    outcome, why = await enumerate_tls13_schemes(ep, facts, SCHEMES)
    if outcome != "made":
        facts.notes.append(f"TLS 1.3 signature schemes not read: {why}")
        if not have_chain:
            await pyopenssl_chain(ep, facts)


# --- the probe records ----------------------------------------------------------------------

async def _all_schemes(ctx: ProbeContext) -> None:
    first = ctx.facts.hellos.get("TLSv1.2")
    # The TLS 1.2 hello showed a chain: pyOpenSSL's handshake is not needed for one.
    have_chain = first is not None and chosen_suite(first, 0x0303, LEGACY_SUITES) is not None \
        and bool(first.certificates)
    await guarded(tls13_schemes_and_chain(ctx.endpoint, ctx.facts, have_chain))


async def compliance_tls13_schemes(ctx: ProbeContext) -> None:
    """One TLS 1.3 handshake offering only the signature schemes the policy flags. A refusal
    means none is accepted only if a handshake offering every scheme can be made: one more
    (which also gives the TLS 1.3 chain) checks that, where the first gave no chain."""
    ep, facts, approves = ctx.endpoint, ctx.facts, ctx.approves
    assert approves is not None
    tls13 = facts.versions["TLSv1.3"].accepted
    bad = tuple(s.code for s in tls_catalog.signature_schemes()
                if not approves(tls_usages.signature_scheme_usage(s.name, "TLSv1.3")))
    if not bad or tls13 is False:
        return
    facts.chain_fetched = True
    outcome, why = await enumerate_tls13_schemes(ep, facts, bad, max_found=1)
    if outcome == "refused":
        outcome, why = await enumerate_tls13_schemes(ep, facts, SCHEMES, max_found=1)
    if tls13 is None and outcome in ("made", "no-tls13"):
        facts.versions["TLSv1.3"].accepted = outcome == "made"
    elif outcome in ("refused", "failed") and tls13:
        facts.notes.append(f"TLS 1.3 signature schemes not checked: {why}")
    if outcome in ("refused", "failed") and not facts.chains:
        await pyopenssl_chain(ep, facts)


def usages(asset: EndpointAsset) -> Iterator[CryptoUsage]:
    """The schemes the server signed its TLS 1.3 CertificateVerify with."""
    where: dict[str, Any] = {"asset_id": asset.id, "location": asset.location}
    for name in asset.details.get("signature_schemes", {}).get("TLSv1.3", []):
        yield tls_usages.signature_scheme_usage(name, "TLSv1.3", **where)


# Budgets: a handshake per scheme found and one more, and pyOpenSSL's handshake for the chain.
TLS13_SCHEMES: Probe[ProbeContext] = Probe(
    "schemes:TLSv1.3", _all_schemes, needs=("tls13-seen",),
    adds=("schemes:TLSv1.3", "chain:TLSv1.3"), budget=len(SCHEMES) + 2, modes=(FULL,),
    when=lambda ctx: ctx.facts.tls13_seen, usages=usages)
# Last of the compliance probes before the chain: it reads (and may settle) whether TLS 1.3 is
# accepted, after the flagged groups were asked, and fetches a chain only where none was seen.
FLAGGED_TLS13_SCHEMES: Probe[ProbeContext] = Probe(
    "flagged-schemes:TLSv1.3", compliance_tls13_schemes,
    needs=("schemes:TLSv1.2", "groups:TLSv1.3"), adds=("schemes:TLSv1.3", "chain:TLSv1.3"),
    budget=3, modes=(COMPLIANCE,), usages=usages)

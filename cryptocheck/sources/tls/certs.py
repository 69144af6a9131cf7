"""Certificates served by a TLS endpoint: assets (through the same code as ``cryptocheck
certs``), and the checks only a live endpoint allows — hostname match, chain order, and
validation against the Mozilla (certifi) and the system trust stores.

TLS 1.3 encrypts the Certificate message: cryptocheck's own handshake reads it
(:mod:`.tls13`), and where that handshake cannot be made, a full handshake with pyOpenSSL
(:func:`fetch_chain`) does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import verification

from cryptocheck.model import CertificateAsset, Location, RunError
from cryptocheck.sources.files.context import FileContext
from cryptocheck.sources.files.system_store import system_store_paths
from cryptocheck.sources.files.x509 import certificate_asset
from cryptocheck.sources.tls.connection import Endpoint, ProbeError, connection, read_some


@dataclass
class _EndpointContext(FileContext):
    """A FileContext whose items are located at host:port (index = position in the chain)."""

    host: str = ""
    port: int = 0

    def location(self, line: int | None = None) -> Location:
        index = self.next_index
        self.next_index += 1
        self.items += 1
        return Location(host=self.host, port=self.port, index=index)

    def file_location(self) -> Location:
        return Location(host=self.host, port=self.port)


def chain_assets(chain: Sequence[bytes], host: str, port: int, endpoint_id: str,
                 ) -> list[CertificateAsset | RunError]:
    """One CertificateAsset (or RunError) per certificate served, in the order served.

    Ids are stable and unique per endpoint: the endpoint id, the position and the
    certificate's SHA-256.
    """
    ctx = _EndpointContext(path=endpoint_id, host=host, port=port)
    out: list[CertificateAsset | RunError] = []
    for der in chain:
        item = certificate_asset(der, ctx, None, "TLS")
        if isinstance(item, CertificateAsset):
            text = f"{endpoint_id}#{item.location.index}#{item.sha256}"
            item = dataclasses.replace(
                item, id="cert-" + hashlib.sha256(text.encode()).hexdigest()[:16])
        out.append(item)
    return out


def hostname_matches(cert: x509.Certificate, name: str) -> bool:
    """RFC 6125 matching of ``name`` against the subjectAltName (one left-most wildcard
    label; IP addresses against iPAddress entries). The subject CN is not used (RFC 6125
    §6.4.4 allows it only without SANs; browsers no longer do)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        return address in san.get_values_for_type(x509.IPAddress)
    wanted = name.rstrip(".").lower().split(".")
    for pattern in san.get_values_for_type(x509.DNSName):
        labels = pattern.rstrip(".").lower().split(".")
        if len(labels) != len(wanted):
            continue
        if labels[0] == "*" and len(labels) > 2:
            if labels[1:] == wanted[1:]:
                return True
        elif labels == wanted:
            return True
    return False


@cache
def _store(paths: tuple[str, ...]) -> verification.Store | None:
    certs: list[x509.Certificate] = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                certs.extend(x509.load_pem_x509_certificates(data))
            except ValueError:
                continue
    return verification.Store(certs) if certs else None


def _store_paths(which: str) -> tuple[str, ...]:
    """The bundle files of a trust store (a hashed directory is not read as a bundle)."""
    if which == "certifi":
        # certifi ships its bundle beside its package; finding it there spares importing
        # certifi.core (and importlib.resources with it) at every start.
        import importlib.util

        spec = importlib.util.find_spec("certifi")
        if spec is not None and spec.origin:
            bundle = os.path.join(os.path.dirname(spec.origin), "cacert.pem")
            if os.path.isfile(bundle):
                return (bundle,)
        import certifi

        return (certifi.where(),)
    return tuple(p for p in system_store_paths() if os.path.isfile(p))


def _verify(chain: list[x509.Certificate], name: str, store: verification.Store | None,
            now: datetime) -> str | None:
    """None when the chain validates to ``store`` for ``name``, else why not."""
    if store is None:
        return "trust store not available"
    try:
        address = ipaddress.ip_address(name.strip("[]"))
        subject: Any = x509.IPAddress(address)
    except ValueError:
        subject = x509.DNSName(name.rstrip("."))
    try:
        verifier = verification.PolicyBuilder().store(store).time(now).build_server_verifier(
            subject)
        verifier.verify(chain[0], chain[1:])
    except verification.VerificationError as exc:
        return str(exc)[:300]
    except Exception as exc:  # noqa: BLE001 - odd certificates must not end the scan
        return f"cannot verify: {exc}"[:300]
    return None


def warm_up() -> None:
    """Read the certifi and system trust stores now (they are cached for the process), so
    that the first chain checked does not wait for them."""
    for which in ("certifi", "system"):
        _store(_store_paths(which))


def chain_checks(chain: Sequence[bytes], name: str, ca_files: tuple[str, ...] = (),
                 now: datetime | None = None) -> dict[str, Any]:
    """Hostname match, chain order, expiry and trust (certifi, system store) of a chain."""
    now = now or datetime.now(UTC)
    certs: list[x509.Certificate] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for der in chain:
            try:
                certs.append(x509.load_der_x509_certificate(der))
            except ValueError:
                return {"parse_error": True}
    if not certs:
        return {}
    in_order = all(certs[i].issuer == certs[i + 1].subject for i in range(len(certs) - 1))
    checks: dict[str, Any] = {
        "hostname": name,
        "hostname_match": hostname_matches(certs[0], name),
        "chain_in_order": in_order,
        "leaf_expired": certs[0].not_valid_after_utc < now,
        "leaf_not_yet_valid": certs[0].not_valid_before_utc > now,
    }
    trust: dict[str, Any] = {}
    stores = {"certifi": _store_paths("certifi"), "system": _store_paths("system")}
    if ca_files:
        stores["ca_files"] = tuple(ca_files)
    for which, paths in stores.items():
        error = _verify(certs, name, _store(paths), now)
        trust[which] = {"trusted": error is None, "error": error}
    checks["trust"] = trust
    return checks


async def fetch_chain(endpoint: Endpoint) -> tuple[list[bytes], bool]:
    """A full TLS handshake with pyOpenSSL over a memory BIO on the scanner's own connection
    (so STARTTLS, limits and timeouts apply as to every probe): the chain as served and
    whether an OCSP response was stapled. Used where TLS 1.3 hides the Certificate message."""
    from OpenSSL import SSL

    context = SSL.Context(SSL.TLS_METHOD)
    context.set_verify(SSL.VERIFY_NONE, lambda *args: True)
    stapled = {"seen": False}

    def ocsp_callback(conn: Any, data: bytes, _: Any) -> bool:
        stapled["seen"] = bool(data)
        return True

    context.set_ocsp_client_callback(ocsp_callback)
    async with connection(endpoint) as (reader, writer):
        conn = SSL.Connection(context, None)
        if endpoint.sni:
            conn.set_tlsext_host_name(endpoint.sni.encode("idna"))
        conn.request_ocsp()
        conn.set_connect_state()
        for _ in range(64):  # a handshake is a few round trips; bound it anyway
            try:
                conn.do_handshake()
                break
            except SSL.WantReadError:
                pass
            except SSL.Error as exc:
                raise ProbeError("handshake-failed", f"TLS handshake failed: {exc}") from None
            try:
                while True:
                    writer.write(conn.bio_read(65536))
            except SSL.WantReadError:
                pass
            await writer.drain()
            data = await read_some(endpoint, reader)
            if not data:
                raise ProbeError("handshake-failed", "connection closed during the handshake")
            conn.bio_write(data)
        else:
            raise ProbeError("handshake-failed", "handshake did not complete")
        chain = conn.get_peer_cert_chain(as_cryptography=True) or []
        ders = [c.public_bytes(Encoding.DER) for c in chain]
        return ders, stapled["seen"]

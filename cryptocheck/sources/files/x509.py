"""X.509 certificates and PKCS#7 certificate bags -> CertificateAsset records."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from cryptocheck import catalog
from cryptocheck.model import CertificateAsset, RunError
from cryptocheck.sources.files import der
from cryptocheck.sources.files.context import FileContext, asset_id
from cryptocheck.sources.files.keyinfo import spki_facts

_PSS_OID = "1.2.840.113549.1.1.10"
_SHA1 = "SHA-1"  # RFC 4055 §3.1: RSASSA-PSS-params hashAlgorithm DEFAULT sha1


def certificate_asset(cert_der: bytes, ctx: FileContext, line: int | None,
                      source_format: str) -> CertificateAsset | RunError:
    """One certificate from its DER, or one ``malformed-der`` error.

    Works from the certificate's OIDs rather than its loaded key, so a certificate with a
    key ``cryptography`` cannot load (ML-DSA, unknown) is still an asset.
    """
    try:
        # The first element only: OpenSSL's TRUSTED CERTIFICATE appends aux data after it.
        cert_der = der.read_tlv(cert_der)[0].raw
        with warnings.catch_warnings():
            # Negative serials and similar oddities warn; they are reported, not fatal.
            warnings.simplefilter("ignore")
            cert = x509.load_der_x509_certificate(cert_der)
            return _asset(cert, cert_der, ctx, line, source_format)
    except Exception:  # noqa: BLE001 - any parse failure of untrusted bytes is one error
        return ctx.error("malformed-der", "certificate does not parse as X.509 DER", line)


def _asset(cert: x509.Certificate, cert_der: bytes, ctx: FileContext, line: int | None,
           source_format: str) -> CertificateAsset:
    spki = der.certificate_spki(cert_der)
    facts = spki_facts(spki)
    sig_oid = cert.signature_algorithm_oid.dotted_string
    sig = catalog.signature_algorithm(sig_oid)
    if sig is None:
        sig_name, sig_scheme, sig_hash = sig_oid, "unknown", None
    else:
        sig_name, sig_scheme, sig_hash = sig.name, sig.scheme, sig.hash
        if sig_hash == "params":
            sig_hash = _pss_hash(cert_der)

    is_ca = False
    ski: str | None = None
    aki: str | None = None
    exts = cert.extensions
    try:
        is_ca = bool(exts.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        pass
    try:
        ski = exts.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex()
    except x509.ExtensionNotFound:
        pass
    try:
        keyid = exts.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        aki = keyid.hex() if keyid is not None else None
    except x509.ExtensionNotFound:
        pass
    self_signed = cert.subject == cert.issuer and (aki is None or aki == ski)

    fingerprint = hashlib.sha256(cert_der).hexdigest()
    location = ctx.location(line)
    return CertificateAsset(
        id=asset_id("cert", location, fingerprint),
        location=location,
        sha256=fingerprint,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial=format(cert.serial_number, "x"),
        key_algorithm=facts.algorithm,
        key_size=facts.size,
        curve=facts.curve,
        key_oid=facts.oid or cert.public_key_algorithm_oid.dotted_string,
        signature_algorithm=sig_name,
        signature_scheme=sig_scheme,
        signature_hash=sig_hash,
        signature_oid=sig_oid,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        is_ca=is_ca,
        self_signed=self_signed,
        spki_sha256=facts.spki_sha256 or hashlib.sha256(spki).hexdigest(),
        subject_key_id=ski,
        authority_key_id=aki,
        source_format=source_format,
    )


def _pss_hash(cert_der: bytes) -> str | None:
    """The hash named in RSASSA-PSS-params (RFC 4055 §3.1), read from the DER."""
    try:
        alg = der.certificate_signature_algorithm(cert_der)
        if alg.parameters is None or alg.parameters.tag != der.SEQUENCE:
            return _SHA1
        for part in alg.parameters.children():
            if part.tag == 0xA0:  # [0] hashAlgorithm
                hash_oid = der.algorithm_identifier(part.children()[0]).oid
                found = catalog.hash_algorithm(hash_oid)
                return found.name if found else hash_oid
        return _SHA1
    except (der.DerError, IndexError):
        return None


def pkcs7_assets(data: bytes, ctx: FileContext, line: int | None, pem: bool,
                 source_format: str = "PKCS#7") -> Iterator[CertificateAsset | RunError]:
    """Every certificate of a PKCS#7 bag (``.p7b``/``.p7c``), PEM or DER."""
    # Imported here: it brings the email package with it (tens of milliseconds at start-up).
    from cryptography.hazmat.primitives.serialization import pkcs7

    try:
        loader = pkcs7.load_pem_pkcs7_certificates if pem else pkcs7.load_der_pkcs7_certificates
        with warnings.catch_warnings():
            # OpenSSL writes PKCS#7 SETs unsorted (BER); cryptography reads it with a warning.
            warnings.simplefilter("ignore")
            certs = loader(data)
    except Exception:  # noqa: BLE001 - malformed or certificate-less bag
        yield ctx.error("malformed-der", "PKCS#7 structure does not parse or holds no "
                        "certificates", line)
        return
    for cert in certs:
        yield certificate_asset(cert.public_bytes(Encoding.DER), ctx, line, source_format)

"""PKCS#12 (``.p12``/``.pfx``) files -> certificates and the private key they hold."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

from cryptocheck.model import Asset, RunError
from cryptocheck.sources.files import der
from cryptocheck.sources.files.context import FileContext
from cryptocheck.sources.files.keyinfo import facts_of_public_key
from cryptocheck.sources.files.keys import encrypted_pkcs8_protection, private_key_from_facts
from cryptocheck.sources.files.x509 import certificate_asset

_DATA = "1.2.840.113549.1.7.1"
_SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2"


def _open(data: bytes, passwords: tuple[str, ...]) -> Any | None:
    # No password and the empty password first: many exported files use one of them.
    candidates: list[bytes | None] = [None, b""] + [p.encode("utf-8") for p in passwords]
    for password in candidates:
        try:
            return pkcs12.load_pkcs12(data, password)
        except Exception:  # noqa: BLE001, S112 - wrong password: never logged, try the next
            continue
    return None


def pkcs12_assets(data: bytes, ctx: FileContext) -> Iterator[Asset | RunError]:
    """Every certificate of a PKCS#12 file, then its private key.

    A file none of the passwords opens is one ``wrong-password`` error (its structure was
    recognised as PKCS#12 first, so damage shows as ``malformed-der`` where it can).
    """
    bundle = _open(data, ctx.passwords)
    if bundle is None:
        yield ctx.error("wrong-password",
                        "PKCS#12 file could not be opened with any of the passwords given")
        return
    certs = []
    if bundle.cert is not None:
        certs.append(bundle.cert.certificate)
    certs.extend(c.certificate for c in bundle.additional_certs)
    for cert in certs:
        yield certificate_asset(cert.public_bytes(Encoding.DER), ctx, None, "PKCS#12")
    if bundle.key is not None:
        facts = facts_of_public_key(bundle.key.public_key())
        del bundle
        protection = _key_protection(data)
        # encrypted is unknown (None) when the key bag is hidden inside an encrypted safe.
        yield private_key_from_facts(facts, ctx, None, "PKCS#12", True if protection else None,
                                     protection)


def _key_protection(data: bytes) -> str | None:
    """The scheme of the first shrouded key bag visible without decryption (RFC 7292 §4.2.2).

    Key bags inside an encryptedData safe cannot be seen without the password: None then.
    """
    try:
        pfx = der.read_tlv(data)[0].children()
        auth_safe = pfx[1].children()
        if der.decode_oid(auth_safe[0]) != _DATA:
            return None
        octets = auth_safe[1].children()[0].value
        for content_info in der.read_tlv(octets)[0].children():
            parts = content_info.children()
            if der.decode_oid(parts[0]) != _DATA:
                continue
            safe_contents = der.read_tlv(parts[1].children()[0].value)[0]
            for bag in safe_contents.children():
                bag_parts = bag.children()
                if der.decode_oid(bag_parts[0]) == _SHROUDED_KEY_BAG:
                    shrouded = bag_parts[1].children()[0]
                    return encrypted_pkcs8_protection(shrouded.raw)
    except (der.DerError, IndexError):
        return None
    return None

"""Java keystores (JKS, JCEKS) -> certificates and private-key entries, through pyjks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cryptography.hazmat.primitives import serialization

from cryptocheck.model import Asset, KeyAsset, RunError
from cryptocheck.sources.files import der
from cryptocheck.sources.files.context import FileContext
from cryptocheck.sources.files.keyinfo import UNKNOWN, KeyFacts, facts_of_public_key, spki_facts
from cryptocheck.sources.files.keys import encrypted_pkcs8_protection, private_key_from_facts
from cryptocheck.sources.files.x509 import certificate_asset

JKS_MAGIC = b"\xfe\xed\xfe\xed"
JCEKS_MAGIC = b"\xce\xce\xce\xce"


def is_keystore(data: bytes | bytearray) -> bool:
    """Whether ``data`` starts with the JKS or JCEKS magic number."""
    return data[:4] in (JKS_MAGIC, JCEKS_MAGIC)


def keystore_assets(data: bytes, ctx: FileContext) -> Iterator[Asset | RunError]:
    """Every trusted certificate, private-key entry and chain certificate, in file order.

    The store is read without its integrity password (certificates are not encrypted in
    JKS); key entries are decrypted with each password in turn to learn the key, and when
    none works the key's public facts come from the first certificate of its chain.
    """
    store_format = "JCEKS" if data[:4] == JCEKS_MAGIC else "JKS"
    # pyjks (and the crypto libraries it pulls in) costs ~0.3 s to import: only when a
    # keystore is actually met.
    import jks as pyjks  # type: ignore[import-untyped]

    try:
        store = pyjks.KeyStore.loads(data, None, try_decrypt_keys=False)
    except Exception:  # noqa: BLE001 - pyjks raises many kinds on damaged stores
        yield ctx.error("malformed-der", f"{store_format} keystore does not parse")
        return
    for entry in store.entries.values():
        if isinstance(entry, pyjks.TrustedCertEntry):
            yield certificate_asset(entry.cert, ctx, None, store_format)
        elif isinstance(entry, pyjks.PrivateKeyEntry):
            yield _private_key_entry(entry, ctx, store_format)
            for _cert_type, cert_der in entry.cert_chain:
                yield certificate_asset(cert_der, ctx, None, store_format)
        # Secret-key entries (JCEKS) hold symmetric keys, which no asset type represents.


def _private_key_entry(entry: Any, ctx: FileContext, store_format: str) -> KeyAsset:
    protection: str | None = None
    try:
        # pyjks keeps the EncryptedPrivateKeyInfo only until decryption; read its header first.
        protection = encrypted_pkcs8_protection(entry._encrypted)
    except (der.DerError, IndexError, TypeError, AttributeError):
        protection = None
    facts = _decrypted_facts(entry, ctx.passwords)
    if facts is UNKNOWN and entry.cert_chain:
        # The entry's public key is the leaf certificate's: a fact, not a guess.
        try:
            facts = spki_facts(der.certificate_spki(entry.cert_chain[0][1]))
        except der.DerError:
            facts = UNKNOWN
    return private_key_from_facts(facts, ctx, None, store_format, True, protection)


def _decrypted_facts(entry: Any, passwords: tuple[str, ...]) -> KeyFacts:
    for password in passwords:
        try:
            entry.decrypt(password)
        except Exception:  # noqa: BLE001, S112 - wrong password: never logged, try the next
            continue
        try:
            key = serialization.load_der_private_key(
                entry.pkey_pkcs8, None, unsafe_skip_rsa_key_validation=True)
        except Exception:  # noqa: BLE001 - an algorithm cryptography cannot load
            return UNKNOWN
        return facts_of_public_key(key.public_key())
    return UNKNOWN

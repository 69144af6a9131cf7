"""Every certificate/key format the sources read, on real fixtures made by make_fixtures.sh."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cryptocheck.model import CertificateAsset, KeyAsset, RunError
from cryptocheck.sources.files import SourceOptions, SourceStats, iter_assets

GEN = Path(__file__).parent / "fixtures" / "sources" / "gen"
P12_PASS = "p12-fixture-secret"
KEY_PASS = "key-fixture-secret"
ROOT = GEN / "root.pem"


def scan(*names: str, passwords: tuple[str, ...] = (), **limits: int) -> list:
    options = SourceOptions(passwords=passwords, **limits)
    return list(iter_assets([str(GEN / n) for n in names], options))


def one(name: str, **kwargs: object) -> CertificateAsset | KeyAsset | RunError:
    items = scan(name, **kwargs)  # type: ignore[arg-type]
    assert len(items) == 1, items
    return items[0]


def der_sha256(pem_name: str) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    cert = x509.load_pem_x509_certificate((GEN / pem_name).read_bytes())
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


LEAF, ROOT_SHA, PSS = der_sha256("leaf.pem"), der_sha256("root.pem"), der_sha256("pss.pem")


# ---- X.509 -------------------------------------------------------------------------------


def test_pem_bundle_with_comments_gives_every_certificate_with_its_line() -> None:
    items = scan("bundle.pem")
    assert [type(i) for i in items] == [CertificateAsset] * 3
    root, leaf, pss = items
    assert [i.location.index for i in items] == [0, 1, 2]
    assert [i.location.line for i in items] == [3, 25, 43]
    assert (root.sha256, leaf.sha256, pss.sha256) == (ROOT_SHA, LEAF, PSS)

    assert root.subject == "CN=Fixture Root CA,O=Fixture,C=GB"
    assert root.key_algorithm == "RSA" and root.key_size == 2048 and root.curve is None
    assert root.signature_algorithm == "sha256WithRSAEncryption"
    assert (root.signature_scheme, root.signature_hash) == ("RSA", "SHA-256")
    assert root.is_ca and root.self_signed

    assert leaf.issuer == root.subject
    assert (leaf.key_algorithm, leaf.key_size, leaf.curve) == ("EC", 256, "secp256r1")
    assert leaf.key_oid == "1.2.840.10045.2.1"
    # Signed by the RSA root with SHA-384.
    assert (leaf.signature_algorithm, leaf.signature_hash) == ("sha384WithRSAEncryption",
                                                               "SHA-384")
    assert not leaf.is_ca and not leaf.self_signed
    assert leaf.authority_key_id == root.subject_key_id
    assert leaf.not_before.tzinfo is not None and leaf.not_after > leaf.not_before
    assert re.fullmatch(r"[0-9a-f]+", leaf.serial)

    assert (pss.key_algorithm, pss.key_size) == ("RSA-PSS", 2048)
    assert (pss.signature_algorithm, pss.signature_scheme) == ("RSASSA-PSS", "RSA-PSS")
    assert pss.signature_hash == "SHA-512"


def test_crlf_bundle_reads_like_the_lf_one() -> None:
    crlf, lf = scan("bundle-crlf.pem"), scan("bundle.pem")
    assert [c.sha256 for c in crlf] == [c.sha256 for c in lf]
    assert [c.location.line for c in crlf] == [c.location.line for c in lf]


def test_der_certificate() -> None:
    cert = one("leaf.der")
    assert isinstance(cert, CertificateAsset)
    assert cert.sha256 == hashlib.sha256((GEN / "leaf.der").read_bytes()).hexdigest() == LEAF
    assert cert.source_format == "DER" and cert.location.line is None


def test_spki_fingerprint_is_of_the_public_key_info() -> None:
    leaf = scan("bundle.pem")[1]
    key = one("leaf.key")
    assert isinstance(key, KeyAsset) and leaf.spki_sha256 == key.spki_sha256


@pytest.mark.parametrize("name", ["chain.p7b", "chain-der.p7c"])
def test_pkcs7_bags_pem_and_der(name: str) -> None:
    items = scan(name)
    assert [i.sha256 for i in items] == [ROOT_SHA, LEAF]
    assert all(i.source_format == "PKCS#7" for i in items)


def test_ed25519_and_dsa_certificates_in_json_and_env_files() -> None:
    ed = one("embedded.json")  # PEM inside a JSON string, lines joined by \n escapes
    assert isinstance(ed, CertificateAsset)
    assert (ed.key_algorithm, ed.key_size, ed.curve) == ("Ed25519", None, "ed25519")
    assert (ed.signature_algorithm, ed.signature_hash) == ("Ed25519", None)
    assert ed.location.line == 4
    dsa = one("app.env")
    assert (dsa.key_algorithm, dsa.key_size) == ("DSA", 2048)  # type: ignore[union-attr]
    assert dsa.signature_algorithm == "dsa_with_SHA256"  # type: ignore[union-attr]


def test_asset_ids_follow_the_contract() -> None:
    cert = scan("bundle.pem")[1]
    loc = cert.location
    expected = hashlib.sha256(f"{loc.path}#{loc.index}#{cert.sha256}".encode()).hexdigest()
    assert cert.id == "cert-" + expected[:16]
    key = one("rsa-spki.pub")
    assert key.id.startswith("pub-") and one("leaf.key").id.startswith("key-")


# ---- PKCS#12 and Java keystores ----------------------------------------------------------


def test_pkcs12_with_password_gives_chain_and_key() -> None:
    items = scan("leaf.p12", passwords=("not-this-one", P12_PASS))
    assert [type(i) for i in items] == [CertificateAsset, CertificateAsset, KeyAsset]
    assert [i.sha256 for i in items[:2]] == [LEAF, ROOT_SHA]
    key = items[2]
    assert (key.type, key.format, key.key_algorithm, key.curve) == (
        "private-key", "PKCS#12", "EC", "secp256r1")
    assert key.spki_sha256 == items[0].spki_sha256
    assert key.encrypted and key.protection == "PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC"


@pytest.mark.parametrize("passwords", [(), ("wrong-password",)])
def test_pkcs12_wrong_password_is_one_error(passwords: tuple[str, ...]) -> None:
    error = one("leaf.p12", passwords=passwords)
    assert isinstance(error, RunError) and error.reason == "wrong-password"


@pytest.mark.parametrize("passwords", [(P12_PASS,), ()])
def test_jks_trusted_and_private_key_entries(passwords: tuple[str, ...]) -> None:
    items = scan("keystore.jks", passwords=passwords)
    assert [type(i) for i in items] == [CertificateAsset, KeyAsset, CertificateAsset,
                                        CertificateAsset]
    assert [items[0].sha256, items[2].sha256, items[3].sha256] == [ROOT_SHA, LEAF, ROOT_SHA]
    key = items[1]
    # Without the password the key's facts come from its chain's leaf certificate.
    assert (key.type, key.format, key.key_algorithm, key.key_size) == (
        "private-key", "JKS", "EC", 256)
    assert key.spki_sha256 == items[2].spki_sha256
    assert key.encrypted and key.protection == "JKS-KeyProtector"


@pytest.mark.parametrize("passwords", [(P12_PASS,), ()])
def test_jceks_private_key_entry(passwords: tuple[str, ...]) -> None:
    # Made by keytool: the key entry, then its chain's certificate.
    key, cert = scan("keypair.jceks", passwords=passwords)
    assert isinstance(key, KeyAsset) and isinstance(cert, CertificateAsset)
    assert (key.type, key.format, key.key_algorithm, key.key_size) == (
        "private-key", "JCEKS", "RSA", 2048)
    assert key.encrypted and key.protection == "PBEWithMD5AndTripleDES"
    assert key.spki_sha256 == cert.spki_sha256
    assert cert.subject == "CN=jceks-fixture" and cert.source_format == "JCEKS"


def test_jceks_trusted_certificate() -> None:
    cert = one("keystore.jceks")
    assert isinstance(cert, CertificateAsset) and cert.sha256 == ROOT_SHA
    assert cert.source_format == "JCEKS"


# ---- private and public keys -------------------------------------------------------------


@pytest.mark.parametrize("name, fmt, algorithm, size, curve", [
    ("rsa-pkcs1.key", "PKCS#1", "RSA", 2048, None),
    ("ec-sec1.key", "SEC1", "EC", 384, "secp384r1"),
    ("dsa-traditional.key", "DSA", "DSA", 2048, None),
    ("ed25519-pkcs8.key", "PKCS#8", "Ed25519", None, "ed25519"),
    ("rsa-pkcs8.der", "PKCS#8", "RSA", 2048, None),
])
def test_unencrypted_private_keys(name: str, fmt: str, algorithm: str, size: int | None,
                                  curve: str | None) -> None:
    key = one(name)
    assert isinstance(key, KeyAsset) and key.type == "private-key"
    assert (key.format, key.key_algorithm, key.key_size, key.curve) == (fmt, algorithm, size,
                                                                        curve)
    assert key.encrypted is False and key.protection is None and key.spki_sha256


def test_encrypted_pkcs8_reports_pbes2_and_opens_with_password() -> None:
    rsa_spki = one("rsa-spki.pub").spki_sha256
    locked = one("rsa-pkcs8-aes256.key")
    assert isinstance(locked, KeyAsset) and locked.encrypted
    assert locked.protection == "PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC"
    assert (locked.key_algorithm, locked.key_size, locked.spki_sha256) == ("unknown", None,
                                                                           None)
    opened = one("rsa-pkcs8-aes256.key", passwords=("nope", KEY_PASS))
    assert (opened.key_algorithm, opened.key_size) == ("RSA", 2048)  # type: ignore[union-attr]
    assert opened.spki_sha256 == rsa_spki  # type: ignore[union-attr]
    assert opened.protection == locked.protection  # type: ignore[union-attr]


def test_legacy_pem_encryption() -> None:
    locked = one("rsa-legacy-des3.key")
    assert isinstance(locked, KeyAsset)
    assert (locked.format, locked.encrypted, locked.protection) == ("PKCS#1", True,
                                                                    "DES-EDE3-CBC")
    assert (locked.key_algorithm, locked.key_size) == ("RSA", None)
    opened = one("rsa-legacy-des3.key", passwords=(KEY_PASS,))
    assert opened.key_size == 2048  # type: ignore[union-attr]


def test_standalone_public_keys() -> None:
    spki, pkcs1 = one("rsa-spki.pub"), one("rsa-pkcs1-public.pem")
    assert (spki.type, spki.format, spki.key_size) == (  # type: ignore[union-attr]
        "public-key", "SubjectPublicKeyInfo", 2048)
    assert pkcs1.format == "PKCS#1"  # type: ignore[union-attr]
    assert spki.spki_sha256 == pkcs1.spki_sha256  # type: ignore[union-attr]


# ---- OpenSSH -------------------------------------------------------------------------------


@pytest.mark.parametrize("name, algorithm, size, curve", [
    ("ssh_rsa", "RSA", 3072, None),
    ("ssh_dsa", "DSA", 1024, None),
    ("ssh_ecdsa256", "EC", 256, "secp256r1"),
    ("ssh_ecdsa384", "EC", 384, "secp384r1"),
    ("ssh_ecdsa521", "EC", 521, "secp521r1"),
    ("ssh_ed25519", "Ed25519", None, "ed25519"),
])
def test_openssh_public_and_private_keys(name: str, algorithm: str, size: int | None,
                                         curve: str | None) -> None:
    public = one(name + ".pub")
    private = one(name)
    assert isinstance(public, KeyAsset) and isinstance(private, KeyAsset)
    assert (public.type, public.format) == ("public-key", "ssh-public-key")
    assert public.comment == name.replace("ssh_", "").replace("ecdsa", "ecdsa") + "@fixture"
    assert (public.key_algorithm, public.key_size, public.curve) == (algorithm, size, curve)
    assert (private.type, private.format, private.encrypted) == ("private-key", "OpenSSH",
                                                                 False)
    assert (private.key_algorithm, private.key_size, private.curve) == (algorithm, size, curve)
    assert private.spki_sha256 == public.spki_sha256


def test_encrypted_openssh_key_still_shows_its_public_facts() -> None:
    key = one("ssh_ed25519_encrypted")
    assert isinstance(key, KeyAsset)
    assert key.encrypted and key.protection == "aes256-ctr bcrypt"
    assert key.key_algorithm == "Ed25519"
    assert key.spki_sha256 == one("ssh_ed25519_encrypted.pub").spki_sha256  # type: ignore


def test_security_key_and_certificate_keys() -> None:
    ed, ecdsa = scan("ssh_sk.pub")
    assert (ed.key_algorithm, ed.curve, ed.comment) == ("Ed25519", "ed25519",
                                                        "sk-ed25519@fixture")
    assert (ecdsa.key_algorithm, ecdsa.curve) == ("EC", "secp256r1")
    cert = one("ssh_ed25519-cert.pub")
    assert cert.key_algorithm == "Ed25519"  # type: ignore[union-attr]
    assert cert.spki_sha256 == one("ssh_ed25519.pub").spki_sha256  # type: ignore[union-attr]


def test_authorized_keys_with_options() -> None:
    items = scan("authorized_keys")
    assert [i.format for i in items] == ["authorized_keys"] * 3
    assert [i.key_algorithm for i in items] == ["RSA", "EC", "Ed25519"]
    assert [i.comment for i in items] == ["rsa@fixture", "ecdsa256@fixture", "ed25519@fixture"]
    assert [i.location.line for i in items] == [2, 3, 4]


def test_hashed_known_hosts_with_markers() -> None:
    items = scan("known_hosts")
    # ssh-keygen -H writes one hashed line per host name; the wildcard line stays unhashed.
    assert [i.format for i in items] == ["known_hosts"] * 5
    assert [i.key_algorithm for i in items] == ["EC", "EC", "Ed25519", "RSA", "DSA"]
    assert (GEN / "known_hosts").read_text().startswith("|1|")


# ---- Kubernetes, archives, stdin, directories --------------------------------------------


def test_kubernetes_tls_secret() -> None:
    items = scan("k8s-secrets.yaml")
    assert [type(i) for i in items] == [CertificateAsset, KeyAsset, CertificateAsset]
    assert [items[0].sha256, items[2].sha256] == [LEAF, ROOT_SHA]
    assert items[1].type == "private-key" and items[1].curve == "secp256r1"
    assert [i.location.line for i in items] == [8, 9, 10]


@pytest.mark.parametrize("name, prefix", [("certs.zip", ""), ("certs.tar.gz", "./")])
def test_archives(name: str, prefix: str) -> None:
    stats = SourceStats()
    items = list(iter_assets([str(GEN / name)], SourceOptions(), stats))
    paths = sorted(i.location.path.split("!", 1)[1] for i in items)
    assert paths == [f"{prefix}inner/leaf.der", f"{prefix}leaf.pem", f"{prefix}root.pem"]
    assert all(isinstance(i, CertificateAsset) for i in items)
    assert stats.files_skipped == 1  # README.txt
    assert stats.files_read == 5  # the archive and its four members


def test_nested_archives_within_and_beyond_the_depth_limit() -> None:
    (cert,) = scan("nested.zip")
    inner = "!nested.tar.bz2!level3.zip!inner/leaf.der"
    assert cert.location.path == str(GEN / "nested.zip") + inner
    (error,) = scan("nested.zip", max_archive_depth=2)
    assert isinstance(error, RunError) and error.reason == "archive-limit"
    assert error.location.path.endswith("!nested.tar.bz2!level3.zip")


def test_stdin_is_sniffed() -> None:
    code = ("from cryptocheck.sources.files import *;"
            "print([(type(i).__name__, i.location.path) for i in "
            "iter_assets(['-'], SourceOptions())])")
    out = subprocess.run([sys.executable, "-c", code], input=(GEN / "leaf.der").read_bytes(),
                         capture_output=True, check=True).stdout.decode()
    assert out.strip() == "[('CertificateAsset', '-')]"


def test_directory_walk_is_sorted_deterministic_and_counts_skips(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.pem").write_bytes(ROOT.read_bytes())
    (tmp_path / "a.crt").write_bytes((GEN / "leaf.der").read_bytes())
    (tmp_path / "notes.md").write_text("nothing to see\n")
    (tmp_path / "link.pem").symlink_to(ROOT)
    stats = SourceStats()
    first = list(iter_assets([str(tmp_path)], SourceOptions(), stats))
    assert [i.location.path for i in first] == [str(tmp_path / "a.crt"),
                                                str(tmp_path / "b" / "z.pem")]
    assert (stats.files_read, stats.files_skipped) == (3, 2)  # notes.md, symlink not followed
    assert first == list(iter_assets([str(tmp_path)], SourceOptions()))
    followed = list(iter_assets([str(tmp_path)], SourceOptions(follow_symlinks=True)))
    assert len(followed) == 3


# ---- certificates whose key or signature cryptography does not know ----------------------

RSA_ENCRYPTION = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1
SHA256_WITH_RSA = bytes.fromhex("2a864886f70d01010b")  # 1.2.840.113549.1.1.11
ML_DSA_65 = bytes.fromhex("608648016503040312")  # 2.16.840.1.101.3.4.3.18, same length
UNKNOWN_OID = bytes.fromhex("2a030405060708090a")  # 1.2.3.4.5.6.7.8.9.10, same length


def root_der_with(old: bytes, new: bytes, tmp_path: Path) -> Path:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = x509.load_pem_x509_certificate(ROOT.read_bytes()).public_bytes(Encoding.DER)
    assert old in der
    path = tmp_path / "edited.der"
    path.write_bytes(der.replace(old, new))
    return path


def _tlv(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big") + content


def test_certificate_with_ml_dsa_key_is_still_an_asset(tmp_path: Path) -> None:
    """An ML-DSA-65 SPKI (RFC 9881: no parameters) in place of the root's RSA key."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from cryptocheck.sources.files import der

    original = x509.load_pem_x509_certificate(ROOT.read_bytes()).public_bytes(Encoding.DER)
    tbs, signature_algorithm, signature = der.read_one(original).children()
    fields = tbs.children()
    spki = _tlv(0x30, _tlv(0x30, _tlv(0x06, ML_DSA_65)) + _tlv(0x03, b"\0" + bytes(1952)))
    fields_raw = [f.raw for f in fields]
    fields_raw[6] = spki  # [0] version, serial, signature, issuer, validity, subject, spki
    new_tbs = _tlv(0x30, b"".join(fields_raw))
    path = tmp_path / "ml-dsa.der"
    path.write_bytes(_tlv(0x30, new_tbs + signature_algorithm.raw + signature.raw))
    cert = one_path(path)
    assert (cert.key_algorithm, cert.key_size, cert.curve) == ("ML-DSA-65", None, None)
    assert cert.key_oid == "2.16.840.1.101.3.4.3.18"
    assert cert.spki_sha256 == hashlib.sha256(spki).hexdigest()


def test_unknown_key_and_signature_oids_are_never_guessed(tmp_path: Path) -> None:
    cert = one_path(root_der_with(RSA_ENCRYPTION, UNKNOWN_OID, tmp_path))
    assert (cert.key_algorithm, cert.key_oid, cert.key_size) == ("unknown",
                                                                 "1.2.3.4.5.6.7.8.9.10", None)
    cert = one_path(root_der_with(SHA256_WITH_RSA, UNKNOWN_OID, tmp_path))
    assert cert.signature_algorithm == cert.signature_oid == "1.2.3.4.5.6.7.8.9.10"
    assert (cert.signature_scheme, cert.signature_hash) == ("unknown", None)


def one_path(path: Path) -> CertificateAsset:
    (item,) = list(iter_assets([str(path)], SourceOptions()))
    assert isinstance(item, CertificateAsset), item
    return item

"""cryptocheck must see every corpus certificate exactly as ``openssl x509 -text`` sees it.

Why: openssl is the reference reader of X.509. For each certificate of tests/corpus/certs we
run ``openssl x509 -text -noout`` at test time on the real file, parse out the public key
algorithm, its size or curve, the signature algorithm (and, for RSASSA-PSS, the hash in its
parameters), the validity dates and whether it is a CA, map openssl's names to ours through
the explicit tables below, and compare with the CertificateAsset that
``cryptocheck.sources.files.iter_assets`` yields for the same certificate. Any difference fails
the test, and every difference of the run is listed, not just the first.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cryptocheck.model import CertificateAsset, KeyAsset, RunError
from cryptocheck.sources.files import SourceOptions, iter_assets

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")

# ---------------------------------------------------------------- openssl name -> our name
# openssl "Public Key Algorithm:" -> (key_algorithm, curve implied by the algorithm itself).
# EdDSA keys have no curve line in openssl's output; the catalogue gives them the curve of
# their algorithm (edwards25519 / edwards448, RFC 8410), named ed25519 / ed448.
# ML-DSA and SLH-DSA: openssl 3.0 prints only the OID (NIST CSOR sigAlgs; RFC 9881, RFC 9909).
# Key files name the SPKI algorithm as `openssl asn1parse` does: X25519/X448 (RFC 8410, curve
# implied as for EdDSA), dhKeyAgreement (PKCS#3 DH) and "X9.42 DH" (dhpublicnumber): both are
# finite-field DH to us, sized by the prime p.
KEY_ALGORITHMS: dict[str, tuple[str, str | None]] = {
    "rsaEncryption": ("RSA", None),
    "rsassaPss": ("RSA-PSS", None),
    "dsaEncryption": ("DSA", None),
    "id-ecPublicKey": ("EC", None),
    "ED25519": ("Ed25519", "ed25519"),
    "ED448": ("Ed448", "ed448"),
    "X25519": ("X25519", "x25519"),
    "X448": ("X448", "x448"),
    "dhKeyAgreement": ("DH", None),
    "X9.42 DH": ("DH", None),
    "2.16.840.1.101.3.4.3.17": ("ML-DSA-44", None),
    "2.16.840.1.101.3.4.3.18": ("ML-DSA-65", None),
    "2.16.840.1.101.3.4.3.19": ("ML-DSA-87", None),
    "2.16.840.1.101.3.4.3.20": ("SLH-DSA-SHA2-128s", None),
    "2.16.840.1.101.3.4.3.21": ("SLH-DSA-SHA2-128f", None),
    "2.16.840.1.101.3.4.3.26": ("SLH-DSA-SHAKE-128s", None),
    "2.16.840.1.101.3.4.3.27": ("SLH-DSA-SHAKE-128f", None),
}

# openssl "ASN1 OID:" -> SEC / RFC 5639 curve name.
CURVES: dict[str, str] = {
    "prime192v1": "secp192r1",
    "secp224r1": "secp224r1",
    "prime256v1": "secp256r1",
    "secp384r1": "secp384r1",
    "secp521r1": "secp521r1",
    "secp256k1": "secp256k1",
    "brainpoolP256r1": "brainpoolP256r1",
    "brainpoolP384r1": "brainpoolP384r1",
    "brainpoolP512r1": "brainpoolP512r1",
    "prime239v1": "prime239v1",  # X9.62; openssl names it as the standard does
    "SM2": "SM2",  # GM/T 0006 1.2.156.10197.1.301 (catalogue alias sm2p256v1)
}
# openssl "NIST CURVE:" -> SEC name (must agree with the ASN1 OID line when both are printed).
NIST_CURVES = {"P-192": "secp192r1", "P-224": "secp224r1", "P-256": "secp256r1",
               "P-384": "secp384r1", "P-521": "secp521r1"}

# openssl "Signature Algorithm:" -> (signature_algorithm, signature_scheme, signature_hash).
# "params" means: the hash is the "Hash Algorithm:" of the RSASSA-PSS parameters.
SIGNATURES: dict[str, tuple[str, str, str | None]] = {
    "md5WithRSAEncryption": ("md5WithRSAEncryption", "RSA", "MD5"),
    "sha1WithRSAEncryption": ("sha1WithRSAEncryption", "RSA", "SHA-1"),
    "sha224WithRSAEncryption": ("sha224WithRSAEncryption", "RSA", "SHA-224"),
    "sha256WithRSAEncryption": ("sha256WithRSAEncryption", "RSA", "SHA-256"),
    "sha384WithRSAEncryption": ("sha384WithRSAEncryption", "RSA", "SHA-384"),
    "sha512WithRSAEncryption": ("sha512WithRSAEncryption", "RSA", "SHA-512"),
    "RSA-SHA3-256": ("id-rsassa-pkcs1-v1_5-with-sha3-256", "RSA", "SHA3-256"),
    "rsassaPss": ("RSASSA-PSS", "RSA-PSS", "params"),
    "dsaWithSHA1": ("dsa-with-sha1", "DSA", "SHA-1"),
    "dsa_with_SHA256": ("dsa_with_SHA256", "DSA", "SHA-256"),
    "ecdsa-with-SHA1": ("ecdsa-with-SHA1", "ECDSA", "SHA-1"),
    "ecdsa-with-SHA224": ("ecdsa-with-SHA224", "ECDSA", "SHA-224"),
    "ecdsa-with-SHA256": ("ecdsa-with-SHA256", "ECDSA", "SHA-256"),
    "ecdsa-with-SHA384": ("ecdsa-with-SHA384", "ECDSA", "SHA-384"),
    "ecdsa-with-SHA512": ("ecdsa-with-SHA512", "ECDSA", "SHA-512"),
    "ecdsa_with_SHA3-256": ("id-ecdsa-with-sha3-256", "ECDSA", "SHA3-256"),
    "ED25519": ("Ed25519", "Ed25519", None),
    "ED448": ("Ed448", "Ed448", None),
    "SM2-with-SM3": ("SM2-with-SM3", "SM2", "SM3"),
    # RFC 8692 §3.2 id-ecdsa-with-shake128: openssl 3.0 has no name for it, prints the OID
    "1.3.6.1.5.5.7.6.32": ("id-ecdsa-with-shake128", "ECDSA", "SHAKE128"),
    "2.16.840.1.101.3.4.3.17": ("ML-DSA-44", "ML-DSA-44", None),
    "2.16.840.1.101.3.4.3.18": ("ML-DSA-65", "ML-DSA-65", None),
    "2.16.840.1.101.3.4.3.19": ("ML-DSA-87", "ML-DSA-87", None),
    "2.16.840.1.101.3.4.3.20": ("SLH-DSA-SHA2-128s", "SLH-DSA-SHA2-128s", None),
    "2.16.840.1.101.3.4.3.27": ("SLH-DSA-SHAKE-128f", "SLH-DSA-SHAKE-128f", None),
}

# openssl digest names (in RSASSA-PSS parameters) -> our hash names.
HASHES = {"sha1": "SHA-1", "sha224": "SHA-224", "sha256": "SHA-256", "sha384": "SHA-384",
          "sha512": "SHA-512"}


# ---------------------------------------------------------------- openssl's side
@dataclass(frozen=True)
class OpensslView:
    """What ``openssl x509 -text -noout`` says about one certificate (its own names)."""

    key_algorithm: str
    key_bits: int | None
    curve_oid_name: str | None
    nist_curve: str | None
    signature_algorithm: str
    pss_hash: str | None
    not_before: datetime
    not_after: datetime
    is_ca: bool


def _one(pattern: str, text: str, what: str) -> str:
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        raise ValueError(f"openssl output has no {what}")
    return match.group(1).strip()


def _maybe(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text, re.MULTILINE)
    return match.group(1).strip() if match else None


def _openssl_date(text: str) -> datetime:
    # "Jan  1 00:00:00 2025 GMT"
    return datetime.strptime(" ".join(text.split()), "%b %d %H:%M:%S %Y GMT").replace(
        tzinfo=UTC)


def parse_openssl_text(text: str) -> OpensslView:
    """Parse the parts we compare out of ``openssl x509 -text -noout`` output (openssl 3.x)."""
    # The SubjectPublicKeyInfo block runs from "Subject Public Key Info:" to the extensions
    # (or the outer signature when there are none); size and curve are read inside it only.
    spki = text.split("Subject Public Key Info:", 1)[1]
    spki = re.split(r"\n\s*(X509v3 extensions:|Signature Algorithm:)", spki, maxsplit=1)[0]
    # The TBS signature algorithm is the first "Signature Algorithm:" line (under "Data:").
    signature = _one(r"^\s*Signature Algorithm: (\S+)", text, "Signature Algorithm")
    pss_hash = None
    if signature == "rsassaPss":
        pss_hash = _one(r"Signature Algorithm: rsassaPss\s*\n\s*Hash Algorithm: (\S+)", text,
                        "RSASSA-PSS Hash Algorithm")
    bits = _maybe(r"Public-Key: \((\d+) bit\)", spki)
    basic = _maybe(r"X509v3 Basic Constraints:.*\n\s*(CA:\w+)", text)
    return OpensslView(
        key_algorithm=_one(r"Public Key Algorithm: (\S+)", spki, "Public Key Algorithm"),
        key_bits=int(bits) if bits else None,
        curve_oid_name=_maybe(r"ASN1 OID: (\S+)", spki),
        nist_curve=_maybe(r"NIST CURVE: (\S+)", spki),
        signature_algorithm=signature,
        pss_hash=pss_hash,
        not_before=_openssl_date(_one(r"Not Before\s*: (.+)", text, "Not Before")),
        not_after=_openssl_date(_one(r"Not After\s*: (.+)", text, "Not After")),
        is_ca=basic == "CA:TRUE",
    )


def openssl_text(pem_block: bytes) -> str:
    """``openssl x509 -text -noout`` of one PEM certificate (stdout only)."""
    done = subprocess.run(["openssl", "x509", "-text", "-noout"], input=pem_block,
                          capture_output=True, check=True, timeout=60)
    return done.stdout.decode()


def pem_blocks(path: Path) -> list[bytes]:
    """The certificates of a file as PEM blocks (a DER file is converted by openssl)."""
    data = path.read_bytes()
    if b"-----BEGIN CERTIFICATE-----" not in data:
        done = subprocess.run(["openssl", "x509", "-inform", "DER"], input=data,
                              capture_output=True, check=True, timeout=60)
        return [done.stdout]
    return [m.group(0) for m in re.finditer(
        rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", data, re.DOTALL)]


# ---------------------------------------------------------------- the comparison
def expected_from_openssl(view: OpensslView) -> tuple[dict[str, object], list[str]]:
    """What cryptocheck should report, in our names; and what the tables cannot map."""
    unmapped: list[str] = []
    expected: dict[str, object] = {}
    if view.key_algorithm in KEY_ALGORITHMS:
        expected["key_algorithm"], implied_curve = KEY_ALGORITHMS[view.key_algorithm]
    else:
        unmapped.append(f"no mapping for openssl's Public Key Algorithm {view.key_algorithm!r}")
        implied_curve = None
    curve = implied_curve
    if view.curve_oid_name is not None:
        if view.curve_oid_name in CURVES:
            curve = CURVES[view.curve_oid_name]
        else:
            unmapped.append(f"no mapping for openssl's ASN1 OID {view.curve_oid_name!r}")
    if view.nist_curve is not None and NIST_CURVES.get(view.nist_curve) != curve:
        unmapped.append(f"openssl's NIST CURVE {view.nist_curve!r} disagrees with its ASN1 OID "
                        f"(mapped to {curve!r})")
    expected["curve"] = curve
    # openssl gives no size for EdDSA, ML-DSA or SLH-DSA: then the size is not compared.
    if view.key_bits is not None:
        expected["key_size"] = view.key_bits
    if view.signature_algorithm in SIGNATURES:
        name, scheme, hash_name = SIGNATURES[view.signature_algorithm]
        if hash_name == "params":
            pss = (view.pss_hash or "").removesuffix("(default)").strip()
            hash_name = HASHES.get(pss)
            if hash_name is None:
                unmapped.append(f"no mapping for openssl's RSASSA-PSS Hash Algorithm {view.pss_hash!r}")
        expected.update(signature_algorithm=name, signature_scheme=scheme,
                        signature_hash=hash_name)
    else:
        unmapped.append(f"no mapping for openssl's Signature Algorithm {view.signature_algorithm!r}")
    expected.update(not_before=view.not_before, not_after=view.not_after, is_ca=view.is_ca)
    return expected, unmapped


def corpus_certificate_files(corpus: Path) -> list[Path]:
    certs = corpus / "certs"
    return sorted([*certs.glob("*.pem"), *certs.glob("*.der")])


def compare_file(path: Path) -> tuple[list[str], int]:
    """Differences between openssl and cryptocheck for every certificate of ``path``."""
    problems: list[str] = []
    rel = f"{path.parent.name}/{path.name}"
    items = list(iter_assets([str(path)], SourceOptions()))
    errors = [i for i in items if isinstance(i, RunError)]
    certificates = sorted((i for i in items if isinstance(i, CertificateAsset)),
                          key=lambda c: c.location.index or 0)
    for error in errors:
        problems.append(f"{rel}: cryptocheck error {error.reason}: {error.message}")
    blocks = pem_blocks(path)
    if len(certificates) != len(blocks):
        problems.append(f"{rel}: openssl sees {len(blocks)} certificates, "
                        f"cryptocheck {len(certificates)}")
    for index, (block, asset) in enumerate(zip(blocks, certificates)):
        view = parse_openssl_text(openssl_text(block))
        expected, unmapped = expected_from_openssl(view)
        for name in unmapped:
            problems.append(f"{rel}#{index}: {name}")
        for field_name, want in expected.items():
            got = getattr(asset, field_name)
            if got != want:
                problems.append(f"{rel}#{index}: {field_name}: openssl {want!r}, cryptocheck {got!r}")
    return problems, len(blocks)


@pytest.mark.tools
def test_every_corpus_certificate_matches_openssl(corpus_dir: Path) -> None:
    files = corpus_certificate_files(corpus_dir)
    assert len(files) >= 60, "the corpus lost certificates"
    problems: list[str] = []
    compared = 0
    for path in files:
        file_problems, count = compare_file(path)
        problems += file_problems
        compared += count
    assert compared >= 64
    assert not problems, (f"{len(problems)} differences between openssl and cryptocheck "
                          f"over {compared} certificates:\n" + "\n".join(problems))


# ---------------------------------------------------------------- the parser itself
# Checked on the committed NAME.txt files (openssl output), so a parser bug cannot hide a
# cryptocheck bug by agreeing with it.
@pytest.mark.parametrize(("txt", "key", "bits", "curve", "sig", "pss_hash"), [
    ("leaf-rsa-2047", "rsaEncryption", 2047, None, "sha256WithRSAEncryption", None),
    ("selfsigned-rsapss-3072-sha384", "rsassaPss", 3072, None, "rsassaPss", "sha384"),
    ("leaf-rsa-2048-sig-rsapss-sha256", "rsaEncryption", 2048, None, "rsassaPss", "sha256"),
    ("selfsigned-ec-p521-sha512", "id-ecPublicKey", 521, "secp521r1", "ecdsa-with-SHA512", None),
    ("selfsigned-ec-brainpoolp384r1-sha384", "id-ecPublicKey", 384, "brainpoolP384r1",
     "ecdsa-with-SHA384", None),
    ("selfsigned-dsa-1024-sha1", "dsaEncryption", 1024, None, "dsaWithSHA1", None),
    ("selfsigned-ed448", "ED448", None, None, "ED448", None),
    ("selfsigned-ml-dsa-87", "2.16.840.1.101.3.4.3.19", None, None, "2.16.840.1.101.3.4.3.19", None),
])
def test_parser_reads_openssl_text(corpus_dir: Path, txt: str, key: str, bits: int | None,
                                   curve: str | None, sig: str, pss_hash: str | None) -> None:
    view = parse_openssl_text((corpus_dir / "certs" / f"{txt}.txt").read_text())
    assert (view.key_algorithm, view.key_bits, view.curve_oid_name, view.signature_algorithm,
            view.pss_hash) == (key, bits, curve, sig, pss_hash)


def test_parser_reads_validity_and_ca(corpus_dir: Path) -> None:
    view = parse_openssl_text((corpus_dir / "certs" / "leaf-expired-2019-2021.txt").read_text())
    assert view.not_before == datetime(2019, 1, 1, tzinfo=UTC)
    assert view.not_after == datetime(2021, 1, 1, tzinfo=UTC)
    assert view.is_ca is False
    root = parse_openssl_text((corpus_dir / "certs" / "root-rsa-2048-sha1.txt").read_text())
    assert root.is_ca is True and root.signature_algorithm == "sha1WithRSAEncryption"


def test_nist_curve_line_agrees_with_oid(corpus_dir: Path) -> None:
    view = parse_openssl_text((corpus_dir / "certs" / "leaf-ec-p256.txt").read_text())
    assert (view.curve_oid_name, view.nist_curve) == ("prime256v1", "P-256")
    expected, unmapped = expected_from_openssl(view)
    assert unmapped == [] and expected["curve"] == "secp256r1"


def test_unmapped_openssl_names_are_reported() -> None:
    view = OpensslView("gost2012_256", 256, None, None, "GOST R 34.10-2012", None,
                       datetime(2025, 1, 1, tzinfo=UTC),
                       datetime(2035, 1, 1, tzinfo=UTC), False)
    _, unmapped = expected_from_openssl(view)
    assert len(unmapped) == 2


# ---------------------------------------------------------------- key files
# Key files are compared the same way: openssl (or ssh-keygen for OpenSSH formats) against
# the KeyAsset cryptocheck yields. openssl 3.0 reads no ML-DSA/SLH-DSA key: those are left out.
# openssl's SPKI algorithm name comes from `openssl asn1parse` of the public key it derives,
# because `openssl pkey -text` prints "Private-Key: (N bit)" alike for RSA and RSA-PSS.

# ssh-keygen -l type -> (key_algorithm, curve by size for ECDSA)
SSH_TYPES = {"RSA": "RSA", "ECDSA": "EC", "ED25519": "Ed25519", "DSA": "DSA"}
SSH_EC_CURVES = {256: "secp256r1", 384: "secp384r1", 521: "secp521r1"}


def _run(args: list[str], data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, input=data, capture_output=True, check=False, timeout=60)


def openssl_key_view(path: Path, passwords: tuple[str, ...]
                     ) -> tuple[str, int | None, str | None, str] | None:
    """(SPKI algorithm name, bits, ASN1 OID curve name, SHA-256 of the DER SPKI) as openssl
    sees the key of ``path``; None when openssl cannot read it."""
    data = path.read_bytes()
    if b"RSA PUBLIC KEY" in data:
        cmd = ["openssl", "rsa", "-RSAPublicKey_in", "-pubout", "-outform", "DER"]
    elif b"PUBLIC KEY" in data or "spki" in path.name:
        cmd = ["openssl", "pkey", "-pubin", "-pubout", "-outform", "DER"]
    else:
        cmd = ["openssl", "pkey", "-pubout", "-outform", "DER"]
    if b"-----BEGIN" not in data:
        cmd += ["-inform", "DER"]
    spki = None
    # DES, RC2 and RC4 live in openssl 3.0's legacy provider: tried after the default one.
    for providers in ([], ["-provider", "legacy", "-provider", "default"]):
        for password in ("", *passwords):
            done = _run([*cmd, *providers, "-passin", f"pass:{password}"], data)
            if done.returncode == 0 and done.stdout:
                spki = done.stdout
                break
        if spki is not None:
            break
    if spki is None:
        return None
    text = _run(["openssl", "pkey", "-pubin", "-inform", "DER", "-text", "-noout"], spki)
    parsed = _run(["openssl", "asn1parse", "-inform", "DER"], spki)
    algorithm = _one(r"OBJECT\s*:(.+?)\s*$", parsed.stdout.decode(), "SPKI algorithm")
    body = text.stdout.decode()
    bits = _maybe(r"Public-Key: \((\d+) bit\)", body)
    return (algorithm, int(bits) if bits else None, _maybe(r"ASN1 OID: (\S+)", body),
            hashlib.sha256(spki).hexdigest())


def ssh_keygen_views(path: Path) -> list[tuple[str, int]]:
    """(type, bits) of every key of an OpenSSH file, one per key line, as ssh-keygen sees it.

    Each key is fed alone (``ssh-keygen -l`` skips marker lines of known_hosts)."""
    data = path.read_bytes()
    if b"OPENSSH PRIVATE KEY" in data:
        done = _run(["ssh-keygen", "-l", "-f", str(path)])
        outputs = [done.stdout.decode()]
    else:
        outputs = []
        for key_line in re.finditer(rb"((?:ssh|ecdsa)-[\w@.-]+) (AAAA[A-Za-z0-9+/=]+)", data):
            line = key_line.group(1) + b" " + key_line.group(2) + b"\n"
            outputs.append(_run(["ssh-keygen", "-l", "-f", "-"], line).stdout.decode())
    views: list[tuple[str, int]] = []
    for out in outputs:
        match = re.match(r"(\d+) \S+ .*\((\w+)\)\s*$", out.strip())
        assert match, f"ssh-keygen -l said {out!r}"
        views.append((match.group(2), int(match.group(1))))
    return views


PQ_KEY_TAGS = ("ml-dsa", "slh-dsa", "ml-kem")  # openssl 3.0 reads none of these keys


def corpus_key_files(corpus: Path) -> list[Path]:
    files = [*sorted((corpus / "keys").iterdir()), *sorted((corpus / "ssh").iterdir()),
             *sorted((corpus / "certs" / "keys").glob("*.key"))]
    return [f for f in files if not any(tag in f.name for tag in PQ_KEY_TAGS)]


# Differences from the reference tools that are understood and reported: key (asset) ->
# the fields that differ. Only these field differences are forgiven, and each must still occur
# (an entry that no longer differs fails the test, so the list cannot go stale).
_UNREAD = frozenset({"key_algorithm", "key_size", "curve", "spki_sha256"})
KNOWN_KEY_DIFFERENCES: dict[str, frozenset[str]] = {
    # cryptography cannot decrypt these ciphers, so cryptocheck cannot read the key inside
    # (openssl can, with its legacy provider): algorithm (2TDEA: the PKCS#8 wrapper does not
    # say), size, curve and fingerprint stay unknown.
    "keys/ec-p256-pkcs8-pbe-sha1-2des.pem#0": _UNREAD,
    "keys/rsa-2048-legacy-des.pem#0": frozenset({"key_size", "spki_sha256"}),
}


def compare_key_file(path: Path, corpus: Path, passwords: tuple[str, ...]) -> list[str]:
    rel = str(path.relative_to(corpus))
    items = sorted(iter_assets([str(path)], SourceOptions(passwords=passwords)),
                   key=lambda i: i.location.index or 0)
    keys = [i for i in items if isinstance(i, KeyAsset)]
    problems = [f"{rel}: cryptocheck error {i.reason}: {i.message}"
                for i in items if isinstance(i, RunError)]
    expected: list[dict[str, object]] = []
    if path.parent.name == "ssh":
        for ssh_type, bits in ssh_keygen_views(path):
            algorithm = SSH_TYPES.get(ssh_type)
            if algorithm is None:
                problems.append(f"{rel}: no mapping for ssh-keygen type {ssh_type!r}")
                continue
            want: dict[str, object] = {"key_algorithm": algorithm}
            if algorithm == "EC":
                want.update(key_size=bits, curve=SSH_EC_CURVES[bits])
            elif algorithm == "Ed25519":
                want["curve"] = "ed25519"  # ssh-keygen's nominal "256" is not a key size here
            else:
                want["key_size"] = bits
            expected.append(want)
    else:
        view = openssl_key_view(path, passwords)
        if view is None:
            return [*problems, f"{rel}: openssl cannot read it"]
        algorithm, openssl_bits, curve_name, spki_sha256 = view
        if algorithm not in KEY_ALGORITHMS:
            return [*problems, f"{rel}: no mapping for openssl's SPKI algorithm {algorithm!r}"]
        name, curve = KEY_ALGORITHMS[algorithm]
        if curve_name is not None:
            curve = CURVES.get(curve_name, f"unmapped {curve_name}")
        want = {"key_algorithm": name, "curve": curve, "spki_sha256": spki_sha256}
        if openssl_bits is not None:
            want["key_size"] = openssl_bits
        expected.append(want)
    if len(keys) != len(expected):
        problems.append(f"{rel}: the reference tool sees {len(expected)} keys, "
                        f"cryptocheck {len(keys)}")
    for index, (want, asset) in enumerate(zip(expected, keys)):
        for field_name, value in want.items():
            got = getattr(asset, field_name)
            if got != value:
                problems.append(f"{rel}#{index}: {field_name}: reference {value!r}, "
                                f"cryptocheck {got!r}")
    return problems


@pytest.mark.tools
def test_every_corpus_key_matches_openssl_and_ssh_keygen(corpus_dir: Path,
                                                         corpus_passwords: tuple[str, ...]) -> None:
    files = corpus_key_files(corpus_dir)
    assert len(files) >= 60
    problems: list[str] = []
    for path in files:
        problems += compare_key_file(path, corpus_dir, corpus_passwords)
    seen: set[tuple[str, str]] = set()
    unexplained: list[str] = []
    for problem in problems:
        asset, _, rest = problem.partition(": ")
        field_name = rest.split(": ", 1)[0]
        if field_name in KNOWN_KEY_DIFFERENCES.get(asset, ()) and ": reference " in rest:
            seen.add((asset, field_name))
        else:
            unexplained.append(problem)
    known = {(asset, f) for asset, fields in KNOWN_KEY_DIFFERENCES.items() for f in fields}
    assert seen == known, f"known differences no longer seen: {sorted(known - seen)}"
    problems = unexplained
    assert not problems, (
        f"{len(problems)} differences between the reference tools and cryptocheck:\n"
        + "\n".join(problems))


def test_ml_kem_keys_match_cryptography(corpus_dir: Path) -> None:
    # openssl 3.0 cannot read ML-KEM keys; python `cryptography` (which made them) is the
    # second reader: parameter set and SPKI fingerprint must agree.
    from cryptography.hazmat.primitives import serialization

    files = sorted((corpus_dir / "keys").glob("ml-kem-*"))
    assert len(files) == 4
    problems: list[str] = []
    for path in files:
        data = path.read_bytes()
        if b"PRIVATE KEY" in data:
            public = serialization.load_pem_private_key(data, None).public_key()
        else:
            public = serialization.load_pem_public_key(data)
        spki = public.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)
        name = "ML-KEM-" + type(public).__name__.removeprefix("MLKEM").removesuffix("PublicKey")
        [asset] = [i for i in iter_assets([str(path)], SourceOptions())
                   if isinstance(i, KeyAsset)]
        want = (name, hashlib.sha256(spki).hexdigest())
        got = (asset.key_algorithm, asset.spki_sha256)
        if got != want:
            problems.append(f"{path.name}: cryptography {want}, cryptocheck {got}")
    assert not problems, "\n".join(problems)

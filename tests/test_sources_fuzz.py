"""Property tests: any bytes, and any mutation of a valid certificate/key file, give only
assets and errors — never an exception — and every item of a file has its own index."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cryptocheck.model import CertificateAsset, KeyAsset, RunError
from cryptocheck.sources.files import SourceOptions, SourceStats
from cryptocheck.sources.files.walk import scan_bytes

GEN = Path(__file__).parent / "fixtures" / "sources" / "gen"
SEEDS = [
    "leaf.der", "bundle.pem", "chain-der.p7c", "chain.p7b", "leaf.p12", "keystore.jks",
    "rsa-pkcs8-aes256.key", "rsa-legacy-des3.key", "rsa-pkcs8.der", "ssh_ed25519_encrypted",
    "ssh_rsa", "known_hosts", "authorized_keys", "k8s-secrets.yaml", "embedded.json",
    "certs.zip", "certs.tar.gz", "rsa-pkcs1-public.pem", "ssh_sk.pub",
]
SEED_BYTES = {name: (GEN / name).read_bytes() for name in SEEDS}
OPTIONS = SourceOptions(passwords=("p12-fixture-secret",), max_file_size=1024**2,
                        max_archive_total=4 * 1024**2)


def check(data: bytes, name: str) -> None:
    items = list(scan_bytes(data, name, OPTIONS, SourceStats()))
    assert items, "an explicitly named input always gives at least one record"
    indices = [i.location.index for i in items
               if i.location.index is not None and "!" not in (i.location.path or "")]
    assert indices == list(range(len(indices)))
    for item in items:
        assert isinstance(item, (CertificateAsset, KeyAsset, RunError))
        if isinstance(item, RunError):
            assert "internal error" not in item.message, item
            assert item.reason in {
                "empty-file", "too-large", "malformed-der", "malformed-pem", "truncated-pem",
                "garbage", "wrong-password", "unsupported-format", "no-crypto-material",
                "archive-limit", "unreadable"}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096), st.sampled_from(["x.pem", "x.der", "x", "known_hosts"]))
def test_random_bytes_never_raise(data: bytes, name: str) -> None:
    check(data, name)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, str]:
    name = draw(st.sampled_from(SEEDS))
    data = bytearray(SEED_BYTES[name])
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = draw(st.integers(0, len(data) - 1))
        if action == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[at:]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[at:at + draw(st.integers(1, 64))]
    return bytes(data), name


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_valid_files_never_raise(case: tuple[bytes, str]) -> None:
    check(*case)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([
    b"-----BEGIN CERTIFICATE-----\n", b"-----END CERTIFICATE-----\n",
    b"-----BEGIN PRIVATE KEY-----\n", b"-----END PRIVATE KEY-----\n", b"MIIB\n", b"====\n",
    b"Proc-Type: 4,ENCRYPTED\n", b"\x00\xff", b"\\n", b"tls.crt: AAAA\n",
    b"ssh-rsa AAAAB3NzaC1yc2E= c\n", b"kind: Secret\n", b"*alias\n", b"&a [1]\n",
]), max_size=30))
def test_pem_like_token_soup_never_raises(parts: list[bytes]) -> None:
    check(b"".join(parts), "soup.pem")

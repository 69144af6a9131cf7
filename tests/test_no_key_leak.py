"""No private key material and no password ever reaches cryptocheck's output.

Why: DESIGN.md makes "secrets stay secret" part of the design: cryptocheck reads private keys
(and opens encrypted ones with the passwords it is given) only to learn their public facts.
This test runs the real CLI, ``cryptocheck certs PATH --format F --output FILE``, over every
private key file of the corpus and over the whole corpus, in every output format, with the
corpus passwords, and searches each report and the standard output and error for:

- every base64 line (16 characters or more) of every private key file's PEM body;
- every 16-byte run of every private key's DER bytes, in hex;
- the private numbers of every key cryptography can open (RSA d, p, q, CRT values; DSA x;
  EC private value; EdDSA / ML-DSA private bytes), in hex and in decimal;
- every password.

None may appear.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from cryptocheck.report import FORMATS

WINDOW = 16  # bytes of DER per hex needle; 32 hex characters cannot appear by chance
PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)


def private_key_files(corpus: Path) -> list[Path]:
    """Every file of the corpus that holds a private key (encrypted or not)."""
    found: list[Path] = []
    for path in sorted(corpus.rglob("*")):
        if not path.is_file() or path.suffix in (".txt", ".md", ".sh", ".py", ".pub"):
            continue
        data = path.read_bytes()
        if b"PRIVATE KEY-----" in data or path.suffix == ".der" and path.parent.name == "keys" and "spki" not in path.name:
            found.append(path)
    return found


def _der_of(path: Path) -> list[bytes]:
    data = path.read_bytes()
    blocks = PEM_BLOCK.findall(data)
    if not blocks:
        return [data]
    ders = []
    for _, body in blocks:
        lines = [ln for ln in body.splitlines() if ln and b":" not in ln]  # drop Proc-Type/DEK-Info
        ders.append(base64.b64decode(b"".join(lines)))
    return ders


def _base64_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    lines = []
    for _, body in PEM_BLOCK.findall(data):
        for line in body.decode("ascii").splitlines():
            if len(line) >= 16 and ":" not in line:
                lines.append(line)
    return lines


def _load_private(path: Path, passwords: tuple[str, ...]) -> object | None:
    data = path.read_bytes()
    loaders = [serialization.load_ssh_private_key] if b"OPENSSH PRIVATE KEY" in data else (
        [serialization.load_pem_private_key] if b"-----BEGIN" in data
        else [serialization.load_der_private_key])
    for loader in loaders:
        for password in (None, *(p.encode() for p in passwords)):
            try:
                return loader(data, password)
            except Exception:  # noqa: BLE001, S112 - wrong password or a key type it cannot load
                continue
    return None


def _private_numbers(key: object) -> list[int | bytes]:
    if isinstance(key, rsa.RSAPrivateKey):
        n = key.private_numbers()
        return [n.d, n.p, n.q, n.dmp1, n.dmq1, n.iqmp]
    if isinstance(key, dsa.DSAPrivateKey):
        return [key.private_numbers().x]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return [key.private_numbers().private_value]
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return [key.private_bytes_raw()]
    raw = getattr(key, "private_bytes_raw", None)  # ML-DSA: the seed
    return [raw()] if callable(raw) else []


class Secrets:
    """Needles to search outputs for, with the file each came from."""

    def __init__(self, corpus: Path, passwords: tuple[str, ...]) -> None:
        self.passwords = passwords
        self.files = private_key_files(corpus)
        self.text: dict[str, str] = {}  # needle (searched as is) -> origin
        self.hex_windows: dict[str, str] = {}  # 32 lowercase hex chars -> origin
        self.opened = 0
        for path in self.files:
            rel = str(path.relative_to(corpus))
            for line in _base64_lines(path):
                self.text[line] = f"base64 line of {rel}"
            for der in _der_of(path):
                for start in range(len(der) - WINDOW + 1):
                    self.hex_windows[der[start:start + WINDOW].hex()] = f"DER bytes of {rel}"
            key = _load_private(path, self.passwords)
            if key is None:
                continue
            self.opened += 1
            for secret in _private_numbers(key):
                raw = secret if isinstance(secret, bytes) else secret.to_bytes(
                    (secret.bit_length() + 7) // 8, "big")
                for start in range(max(1, len(raw) - WINDOW + 1)):
                    self.hex_windows[raw[start:start + WINDOW].hex()] = f"private number of {rel}"
                if isinstance(secret, int) and secret.bit_length() > 64:
                    self.text[str(secret)[:24]] = f"private number (decimal) of {rel}"
                self.text[base64.b64encode(raw).decode()[:24]] = f"private bytes (base64) of {rel}"
        for password in self.passwords:
            self.text[password] = "a password"

    def leaks(self, output: str) -> list[str]:
        found = [f"{origin}: {needle[:12]}..." for needle, origin in self.text.items()
                 if needle in output]
        lowered = output.lower()
        seen: set[str] = set()
        for run in re.findall(r"[0-9a-f]{32,}", lowered):
            for start in range(len(run) - 2 * WINDOW + 1):
                window = run[start:start + 2 * WINDOW]
                if window in self.hex_windows and window not in seen:
                    seen.add(window)
                    found.append(f"{self.hex_windows[window]}: hex {window[:12]}...")
        return found


@pytest.fixture(scope="module")
def secrets(corpus_dir: Path, corpus_passwords: tuple[str, ...]) -> Secrets:
    return Secrets(corpus_dir, corpus_passwords)


def run_cli(targets: list[str], fmt: str, output: Path, password_file: Path,
            env_password: str) -> tuple[str, str]:
    """Run ``cryptocheck certs`` as a user would; (report, stdout + stderr)."""
    env = {**os.environ, "CRYPTOCHECK_PASSWORD": env_password, "NO_COLOR": "1"}
    args = [sys.executable, "-m", "cryptocheck", "certs", *targets, "--format", fmt,
            "--output", str(output), "--password-file", str(password_file),
            "--as-of", "2026-11-22"]
    if fmt == "text":
        args.append("--show-approved")
    done = subprocess.run(args, check=False, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode in (0, 1), f"exit {done.returncode}: {done.stderr}"
    return output.read_text(encoding="utf-8"), done.stdout + done.stderr


@pytest.fixture(scope="module")
def password_file(tmp_path_factory: pytest.TempPathFactory, secrets: Secrets) -> Path:
    path = tmp_path_factory.mktemp("pw") / "passwords"
    # All but the last from the file; the last comes through the environment.
    path.write_text("\n".join(secrets.passwords[:-1]) + "\n", encoding="utf-8")
    return path


# Corpus private keys python `cryptography` cannot open: their DER bytes are still needles,
# but no private numbers are taken from them (tests/corpus/README.md describes each).
UNOPENABLE = {
    "slh-dsa-sha2-128s.key", "slh-dsa-shake-128f.key",  # no SLH-DSA loader
    "sm2.key", "ec-prime239v1.key",  # curves cryptography does not support
    "ec-p256-pkcs8-pbe-sha1-2des.pem", "rsa-2048-legacy-des.pem",  # ciphers it cannot decrypt
    # encrypted OpenSSH keys: the bcrypt KDF needs the optional `bcrypt` package
    "id_ed25519_encrypted", "id_ed25519_chacha20",
}


def test_the_search_is_not_vacuous(secrets: Secrets) -> None:
    assert len(secrets.files) >= 40
    assert secrets.opened >= len(secrets.files) - len(UNOPENABLE)
    assert len(secrets.passwords) == 4
    assert len(secrets.hex_windows) > 10_000 and len(secrets.text) > 500
    # the search finds what it looks for
    some_line = next(iter(secrets.text))
    assert secrets.leaks(f"xx {some_line} yy")
    some_hex = next(iter(secrets.hex_windows)).upper()
    assert secrets.leaks(f"serial: {some_hex}")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("scope", ["private-keys", "whole-corpus"])
def test_no_private_key_or_password_in_any_output(corpus_dir: Path, secrets: Secrets,
                                                  password_file: Path, tmp_path: Path,
                                                  fmt: str, scope: str) -> None:
    targets = ([str(p) for p in secrets.files] if scope == "private-keys" else [str(corpus_dir)])
    report, console = run_cli(targets, fmt, tmp_path / f"report.{fmt}", password_file,
                              secrets.passwords[-1])
    assert len(report) > 1000
    leaks = secrets.leaks(report) + [f"console: {leak}" for leak in secrets.leaks(console)]
    assert leaks == [], f"{len(leaks)} secrets in the {fmt} output:\n" + "\n".join(leaks)


def test_keys_were_really_read_and_opened(corpus_dir: Path, secrets: Secrets,
                                          password_file: Path, tmp_path: Path) -> None:
    # Guard against a vacuous pass: every key file gives one private-key asset and the
    # encrypted ones were opened with the passwords (their size or curve is known).
    report, _ = run_cli([str(p) for p in secrets.files], "json", tmp_path / "r.json",
                        password_file, secrets.passwords[-1])
    document = json.loads(report)
    keys = [a for a in document["assets"] if a["type"] == "private-key"]
    assert document["errors"] == []
    assert len(keys) == len(secrets.files)
    encrypted = [k for k in keys if k["encrypted"]]
    assert len(encrypted) >= 5
    not_opened = [Path(k["path"]).name for k in encrypted
                  if k["key_size"] is None and k["curve"] is None]
    assert set(not_opened) <= UNOPENABLE

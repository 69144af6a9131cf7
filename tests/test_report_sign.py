"""Signed evidence: --sign writes a detached signature over the canonical JSON report and
every output; verify passes on the untouched files and fails, saying what changed, when one
byte of the report or of any listed output changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from test_report_load import CORPUS, write_mixed

from cryptocheck.cli import main
from cryptocheck.report.sign import (
    SignError,
    VerificationError,
    canonical_json,
    load_private_key,
    verify,
)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture(params=["ed25519", "ecdsa-p256"])
def keypair(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path]:
    key = tmp_path / "keys" / "signing.key"
    key.parent.mkdir()
    result = run("report", "keygen", str(key), "--algorithm", request.param)
    assert result.exit_code == 0, result.output
    assert key.stat().st_mode & 0o777 == 0o600
    assert b"PRIVATE KEY" not in result.output.encode()
    return key, Path(str(key) + ".pub")


@pytest.fixture
def signed_scan(keypair: tuple[Path, Path], tmp_path: Path) -> dict[str, Path]:
    key, pub = keypair
    out = tmp_path / "out"
    out.mkdir()
    files = {"json": out / "r.json", "csv": out / "r.csv", "junit": out / "r.xml",
             "markdown": out / "r.md", "cbom": out / "r.cdx.json"}
    args = ["certs", str(CORPUS / "certs"), "--as-of", "2026-06-01", "--sign", str(key)]
    for fmt, path in files.items():
        args += ["-o", f"{fmt}={path}"]
    result = run(*args)
    assert result.exit_code == 1, result.output  # the corpus has disallowed keys
    assert "signed:" in result.stderr
    return files | {"sig": out / "r.json.sig", "pub": pub}


def _verify(files: dict[str, Path]) -> Result:
    return run("report", "verify", str(files["json"]), "--signature", str(files["sig"]),
               "--public-key", str(files["pub"]))


def test_signed_scan_verifies(signed_scan: dict[str, Path]) -> None:
    result = _verify(signed_scan)
    assert result.exit_code == 0, result.output
    assert "verified" in result.stdout
    document = json.loads(signed_scan["sig"].read_text())
    assert {o["format"] for o in document["outputs"]} == {"json", "csv", "junit", "markdown",
                                                          "cbom"}
    assert document["algorithm"] in ("Ed25519", "ECDSA-P256-SHA256")
    report = json.loads(signed_scan["json"].read_text())
    assert document["report"]["policy"]["sha256"] == report["policy"]["sha256"]


def _flip_one_byte(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("which", ["json", "csv", "junit", "markdown", "cbom"])
def test_one_changed_byte_fails_with_a_clear_message(signed_scan: dict[str, Path],
                                                     which: str) -> None:
    path = signed_scan[which]
    _flip_one_byte(path, len(path.read_bytes()) // 2)
    result = _verify(signed_scan)
    assert result.exit_code == 1
    assert "verification FAILED" in result.stderr
    assert f"output {path} was changed after signing" in result.stderr


def test_changed_report_content_is_named(signed_scan: dict[str, Path]) -> None:
    path = signed_scan["json"]
    path.write_text(path.read_text().replace('"disallowed"', '"approved"', 1))
    result = _verify(signed_scan)
    assert result.exit_code == 1
    assert f"report {path} was changed after signing (canonical SHA-256" in result.stderr


def test_white_space_only_change_is_caught_by_the_byte_manifest(
        signed_scan: dict[str, Path]) -> None:
    path = signed_scan["json"]
    path.write_text(path.read_text() + " ")
    with pytest.raises(VerificationError) as caught:
        verify(path, signed_scan["sig"], signed_scan["pub"])
    message = str(caught.value)
    assert "json output" in message and "canonical" not in message


def test_missing_output_fails(signed_scan: dict[str, Path]) -> None:
    signed_scan["markdown"].unlink()
    result = _verify(signed_scan)
    assert result.exit_code == 1 and "listed in the signature is missing" in result.stderr


def test_altered_signature_file_fails(signed_scan: dict[str, Path]) -> None:
    document = json.loads(signed_scan["sig"].read_text())
    document["outputs"][0]["sha256"] = "0" * 64
    signed_scan["sig"].write_text(json.dumps(document))
    result = _verify(signed_scan)
    assert result.exit_code == 1 and "signature file was altered" in result.stderr


def test_another_key_fails(signed_scan: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    assert run("report", "keygen", str(other)).exit_code == 0
    result = run("report", "verify", str(signed_scan["json"]), "--signature",
                 str(signed_scan["sig"]), "--public-key", str(other) + ".pub")
    assert result.exit_code == 1 and "signature was made with another key" in result.stderr


def test_only_ed25519_and_p256_sign(tmp_path: Path) -> None:
    rsa_key = tmp_path / "rsa.pem"
    rsa_key.write_bytes(rsa.generate_private_key(65537, 2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(SignError, match="must be Ed25519 or ECDSA P-256"):
        load_private_key(rsa_key)
    p384 = tmp_path / "p384.pem"
    p384.write_bytes(ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(SignError, match="P-256"):
        load_private_key(p384)
    result = run("certs", str(CORPUS / "certs"), "-o", f"json={tmp_path / 'r.json'}",
                 "--sign", str(rsa_key))
    assert result.exit_code == 2 and "must be Ed25519 or ECDSA P-256" in result.output
    assert not (tmp_path / "r.json").exists()  # refused before the run


def test_encrypted_signing_key_needs_its_password(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "enc.pem"
    key.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret-pass")))
    monkeypatch.delenv("CRYPTOCHECK_SIGNING_PASSWORD", raising=False)
    with pytest.raises(SignError, match="encrypted"):
        load_private_key(key)
    monkeypatch.setenv("CRYPTOCHECK_SIGNING_PASSWORD", "s3cret-pass")
    assert isinstance(load_private_key(key), ec.EllipticCurvePrivateKey)


def test_sign_needs_a_json_file_and_no_stdout(keypair: tuple[Path, Path], tmp_path: Path) -> None:
    key, _ = keypair
    result = run("certs", str(CORPUS / "certs"), "-o", f"csv={tmp_path / 'r.csv'}",
                 "--sign", str(key))
    assert result.exit_code == 2 and "add --output json=FILE" in result.output
    result = run("certs", str(CORPUS / "certs"), "--format", "json", "--sign", str(key))
    assert result.exit_code == 2 and "every output written to a file" in result.output


@pytest.mark.tls_server  # mixed_report scans a live s_server
def test_rendering_a_saved_report_can_be_signed(keypair: tuple[Path, Path],
                                                tmp_path: Path) -> None:
    key, pub = keypair
    saved = write_mixed(tmp_path / "mixed.json")
    copy, sig = tmp_path / "copy.json", tmp_path / "evidence.sig"
    result = run("report", str(saved), "-o", f"json={copy}", "-o",
                 f"markdown={tmp_path / 'm.md'}", "--sign", str(key), "--signature", str(sig))
    assert result.exit_code == 0, result.output
    assert verify(copy, sig, pub).outputs
    # The canonical digest is of the content: the original saved file verifies as the report.
    assert verify(saved, sig, pub).report_sha256


def test_canonical_json_is_independent_of_layout() -> None:
    a = json.loads('{"b": [1, 2], "a": {"y": null, "x": "é"}}')
    b = json.loads('{\n  "a": {"x": "é", "y": null},\n  "b": [1,2]\n}')
    assert canonical_json(a) == canonical_json(b) == '{"a":{"x":"é","y":null},"b":[1,2]}'.encode()

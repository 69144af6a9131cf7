"""The command line as users and scripts run it: exit codes, formats, policies, waivers."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from cryptocheck.cli import main

SCHEMA = json.loads((Path(__file__).parents[1] / "cryptocheck/schema/report.schema.json").read_text())


def make_cert(path: Path, *, bits: int = 2048, days: int = 365, start: datetime | None = None,
              curve: ec.EllipticCurve | None = None) -> None:
    key = ec.generate_private_key(curve) if curve else rsa.generate_private_key(65537, bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, path.stem)])
    start = start or datetime(2026, 1, 1, tzinfo=UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1000 + bits)
            .not_valid_before(start).not_valid_after(start + timedelta(days=days))
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("certs")
    make_cert(root / "good.pem", bits=2048)
    make_cert(root / "ec.pem", curve=ec.SECP256R1())
    make_cert(root / "weak.pem", bits=1024)
    (root / "broken.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    return root


def run(*args: str, input: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_exit_codes_follow_fail_on(tree: Path) -> None:
    code, _, err = run("certs", str(tree / "good.pem"), "--as-of", "2026-06-01")
    assert code == 0, err
    code, _, err = run("certs", str(tree / "weak.pem"), "--as-of", "2026-06-01")
    assert code == 1 and "FAIL" in err
    # The weak key is disallowed; with --fail-on disallowed a good cert passes even when expired
    # findings are counted only at or above the threshold.
    code, _, _ = run("certs", str(tree / "good.pem"), "--as-of", "2026-06-01", "--fail-on", "legacy")
    assert code == 0


def test_unreadable_only_is_exit_2_and_bad_usage_is_exit_2(tree: Path, tmp_path: Path) -> None:
    assert run("certs", str(tree / "broken.pem"))[0] == 2
    assert run("certs", str(tmp_path / "missing.pem"))[0] == 2
    assert run("certs", str(tree), "--as-of", "yesterday")[0] == 2
    assert run("certs")[0] == 2
    bad_policy = tmp_path / "bad.toml"
    bad_policy.write_text("[policy]\nid = 'x'\n")
    code, _, err = run("certs", str(tree), "--policy", str(bad_policy))
    assert code == 2 and "bad.toml" in err


def test_json_report_validates_and_counts_add_up(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    code, _, _ = run("certs", str(tree), "--format", "json", "--output", str(out), "--as-of", "2026-06-01")
    assert code == 1  # weak.pem
    report = json.loads(out.read_text())
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(report)
    summary = report["summary"]
    assert summary["inputs"] == summary["assets"] + summary["errors"] == 4
    assert summary["errors"] == 1 and report["errors"][0]["path"].endswith("broken.pem")
    weak = next(a for a in report["assets"] if a["path"].endswith("weak.pem"))
    assert (weak["key_algorithm"], weak["key_size"]) == ("RSA", 1024)
    statuses = {f["status"] for f in report["findings"] if f["asset"] == weak["id"]}
    assert "disallowed" in statuses
    assert report["policy"]["id"] == "nhs-acagpg" and report["policy"]["as_of"] == "2026-06-01"


def test_json_is_deterministic_apart_from_timestamps(tree: Path, tmp_path: Path) -> None:
    outputs = []
    for n in range(2):
        out = tmp_path / f"r{n}.json"
        run("certs", str(tree), "--format", "json", "--output", str(out), "--as-of", "2026-06-01")
        data = json.loads(out.read_text())
        data.pop("started"), data.pop("finished")
        outputs.append(json.dumps(data))
    assert outputs[0] == outputs[1]


def test_as_of_moves_expiry(tree: Path) -> None:
    # good.pem is valid 2026-01-01 .. 2027-01-01
    code, out, _ = run("certs", str(tree / "good.pem"), "--format", "json", "--as-of", "2028-01-01")
    findings = json.loads(out)["findings"]
    validity = next(f for f in findings if f["usage"]["context"] == "certificate.validity")
    assert validity["status"] == "disallowed" and code == 1


def test_standard_input_and_jsonl(tree: Path) -> None:
    data = (tree / "ec.pem").read_bytes()
    code, out, _ = run("certs", "-", "--format", "jsonl", "--as-of", "2026-06-01", input=data)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert lines[0]["record"] == "asset" and lines[0]["curve"] == "secp256r1"
    assert lines[-1]["record"] == "summary"


def test_waivers_stop_a_failure_until_they_expire(tree: Path, tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.toml"
    waivers.write_text('[[waiver]]\nid = "W-1"\nowner = "pki@example.org"\nreason = "HSM replacement"\n'
                       'expires = 2027-01-01\n[waiver.match]\npath = "*weak.pem"\n')
    code, out, _ = run("certs", str(tree / "weak.pem"), "--waivers", str(waivers), "--format", "json",
                       "--as-of", "2026-06-01")
    assert code == 0
    assert any(f["waived"] for f in json.loads(out)["findings"])
    code, out, _ = run("certs", str(tree / "weak.pem"), "--waivers", str(waivers), "--format", "json",
                       "--as-of", "2027-02-01")
    assert code == 1
    notes = [f["waiver_note"] for f in json.loads(out)["findings"] if f["waiver_note"]]
    assert notes and "expired on 2027-01-01" in notes[0]


def test_policy_commands() -> None:
    code, out, _ = run("policy", "list")
    assert code == 0
    for policy_id in ("nhs-acagpg", "nist-sp800-131a-r2", "nist-ir8547", "cnsa-2.0", "cabf-br"):
        assert policy_id in out
    code, out, _ = run("policy", "show", "nhs-acagpg", "--format", "json")
    shown = json.loads(out)
    assert shown["id"] == "nhs-acagpg" and shown["rules"]
    rule_id = shown["rules"][0]["id"]
    code, out, _ = run("policy", "explain", rule_id)
    assert code == 0 and rule_id in out and "cites:" in out
    assert run("policy", "explain", "NO-SUCH-RULE")[0] == 2
    code, out, _ = run("policy", "diff", "nist-sp800-131a-r2", "nist-ir8547", "--as-of", "2036-01-01",
                       "--format", "json")
    changes = json.loads(out)
    assert any(c["usage"] == "EC secp256r1" and c["b"]["status"] == "disallowed" for c in changes)
    assert not any(c["a"]["status"] == c["b"]["status"] for c in changes)


def test_policy_validate(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[policy]\nid = "x"\ntitle = "t"\nversion = "1"\n\n[[rule]]\nid = "R"\nsummary = "s"\n'
                   'status = "maybe"\ncontexts = ["public-key"]\n')
    code, _, err = run("policy", "validate", str(bad))
    assert code == 2 and f"{bad}:9:" in err
    assert run("policy", "validate", "nhs-acagpg")[0] == 0


def test_python_dash_m_and_help() -> None:
    result = subprocess.run([sys.executable, "-m", "cryptocheck", "certs", "--help"],
                            capture_output=True, text=True, check=True)
    assert "--fail-on" in result.stdout and "--as-of" in result.stdout


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl"])
def test_every_format_gives_the_same_verdict(tree: Path, tmp_path: Path, fmt: str) -> None:
    # Streaming formats keep no list of findings: the exit code must not depend on the format.
    waivers = tmp_path / "w.toml"
    waivers.write_text('[[waiver]]\nid = "W"\nowner = "o"\nreason = "r"\nexpires = 2027-01-01\n'
                       '[waiver.match]\npath = "*weak.pem"\n')
    out = str(tmp_path / "out")
    assert run("certs", str(tree), "--format", fmt, "-o", out, "--as-of", "2026-06-01")[0] == 1
    assert run("certs", str(tree), "--format", fmt, "-o", out, "--as-of", "2026-06-01",
               "--waivers", str(waivers))[0] == 0
    assert run("certs", str(tree / "good.pem"), "--format", fmt, "-o", out, "--as-of", "2026-06-01",
               "--fail-on", "legacy")[0] == 0


def test_the_program_ends_at_once_with_everything_written(tmp_path: Path) -> None:
    """``python -m cryptocheck`` ends with os._exit once the command is done (cli.run): every
    line still reaches a pipe and a file, and the exit codes are the fixed ones."""
    corpus = str(Path(__file__).resolve().parent / "corpus")
    base = [sys.executable, "-m", "cryptocheck"]
    piped = subprocess.run(base + ["certs", corpus, "--as-of", "2026-11-22", "--format", "jsonl"],
                           capture_output=True, check=False)
    lines = piped.stdout.decode().splitlines()
    assert piped.returncode == 1
    assert len(lines) > 100
    assert json.loads(lines[-1])["record"] == "summary"
    out = tmp_path / "report.json"
    written = subprocess.run(base + ["certs", corpus, "--as-of", "2026-11-22", "--format",
                                     "json", "-o", str(out)], capture_output=True, check=False)
    assert written.returncode == 1
    assert json.loads(out.read_text())["summary"]["assets"] > 50
    usage = subprocess.run(base + ["certs", "--no-such-option"], capture_output=True,
                           check=False)
    assert usage.returncode == 2 and b"no-such-option" in usage.stderr
    version = subprocess.run(base + ["--version"], capture_output=True, check=False)
    assert version.returncode == 0 and version.stdout.startswith(b"cryptocheck, version")


@pytest.mark.parametrize("command", ["tls", "ssh"])
@pytest.mark.parametrize("ports", ["abc", "0", "70000", "22-x"])
def test_a_bad_port_list_is_a_usage_error(command: str, ports: str) -> None:
    # One parser for --ports (cli.common.parse_ports): ssh used to raise ValueError on "abc".
    result = CliRunner().invoke(main, [command, "127.0.0.1", "--ports", ports])
    assert result.exit_code == 2, result.output
    assert "is not a port list" in result.output

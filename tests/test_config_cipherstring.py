"""The cipher-string engine against the local ``openssl ciphers -V``.

For every string (real ones from configurations in fixtures/config/cipherstrings/real.txt,
and several hundred generated from OpenSSL's own vocabulary), the suites the engine selects,
restricted to those the local OpenSSL knows, must be exactly what ``openssl ciphers -V``
lists, in the same order. A string OpenSSL refuses must be one the engine marks as an error
(or whose every selected suite the local OpenSSL lacks).
"""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from cryptocheck.catalog.openssl_ciphers import aliases, openssl_suites
from cryptocheck.sources.config.cipherstring import expand, tls13_suites

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")

REAL = Path(__file__).parent / "fixtures" / "config" / "cipherstrings" / "real.txt"


def _openssl(cipher_string: str) -> list[int] | None:
    """Suite codes ``openssl ciphers -V`` lists (TLS 1.3 left out), None when it refuses."""
    done = subprocess.run(["openssl", "ciphers", "-ciphersuites", "", "-V", "--", cipher_string],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return None
    codes = []
    for line in done.stdout.splitlines():
        hi, lo = line.split()[0].split(",")
        codes.append(int(hi, 16) << 8 | int(lo, 16))
    return codes


def _local_codes() -> set[int]:
    codes = _openssl("ALL:COMPLEMENTOFALL")
    assert codes
    return set(codes)


def _generated(count: int, seed: int = 2026) -> list[str]:
    rng = random.Random(seed)
    words = sorted(aliases()) + [s.openssl for s in openssl_suites() if not s.tls13]
    words += [s.iana for s in rng.sample(list(openssl_suites()), 20) if not s.tls13]
    words += ["DEFAULT", "NOSUCH", "TLSv1.1", "EXPORT", "EXP", "aDH", "kDHr", "SSLv2"]
    out = []
    for _ in range(count):
        parts = []
        if rng.random() < 0.2:
            parts.append("DEFAULT")
        for _ in range(rng.randint(1, 6)):
            prefix = rng.choice(["", "", "", "!", "-", "+"])
            joined = "+".join(rng.choice(words) for _ in range(rng.choice([1, 1, 1, 2, 3])))
            parts.append(prefix + joined)
        if rng.random() < 0.2:
            parts.insert(rng.randrange(len(parts) + 1), "@STRENGTH")
        if rng.random() < 0.1:
            parts.append(f"@SECLEVEL={rng.randint(0, 5)}")
        out.append(rng.choice([":", ":", ",", " "]).join(parts))
    return out


def _real() -> list[str]:
    lines = REAL.read_text("utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def _check(strings: list[str]) -> None:
    local = _local_codes()
    mismatches = []
    for text in strings:
        expected = _openssl(text)
        result = expand(text)
        got = [s.code for s in result.suites if s.code in local]
        if expected is None:
            if not (result.error or not got):
                mismatches.append((text, "openssl refuses it", got))
        elif result.invalid or got != expected:
            mismatches.append((text, expected, got))
    assert not mismatches, f"{len(mismatches)} of {len(strings)} differ, first: {mismatches[:3]}"


@pytest.mark.tools
def test_real_strings_expand_like_openssl() -> None:
    strings = _real()
    assert len(strings) >= 50
    _check(strings)


@pytest.mark.tools
def test_generated_strings_expand_like_openssl() -> None:
    _check(_generated(400))


EDGE = [":HIGH:", "HIGH+", "+HIGH+MEDIUM", "!", "HIGH:!", "HIGH:-", "HIGH:+", "@STRENGTH",
        "HIGH:@STRENGTH+HIGH", "DEFAULTHIGH", "DEFAULT:DEFAULT", "DEFAULT,HIGH", "DEFAULT HIGH",
        " DEFAULT", "HIGH::MEDIUM", "HIGH;;;LOW", "ALL:-ALL:HIGH", "ALL:!ALL:COMPLEMENTOFALL",
        "kRSA+kDHE", "aRSA+kECDHE+AESGCM+SHA384", "HIGH:@SECLEVEL=", "HIGH:@SECLEVEL=12",
        "HIGH:@SECLEVEL=a", "HIGH:@STRENGTHX", "AES128-SHA+AES256-SHA", "AES128-SHA+SHA1",
        "AES128-SHA+kRSA+HIGH", "ECDHE-RSA-AES128-GCM-SHA256+TLSv1.2", "TLSv1.2+SHA256",
        "SSLv3+HIGH", "COMPLEMENTOFDEFAULT+HIGH", "FIPS+kRSA", "HIGH:!FIPS", "-HIGH:HIGH",
        "HIGH:-HIGH:+MEDIUM:MEDIUM", "ECDH:@STRENGTH:-AES256", "CHACHA20:AESGCM:@STRENGTH",
        "AESCCM8:+AESCCM", "ARIA:!ARIA128", "CAMELLIA+SHA256", "PSK:-kPSK:+kRSAPSK",
        "SRP:aSRP:kSRP", "ALL:!aNULL:!eNULL:@SECLEVEL=0", "HIGH:+aECDSA", "HIGH:+EDH:+kRSA",
        "EDH-RSA-DES-CBC3-SHA:HIGH", "a b c HIGH", "HIGH\tMEDIUM"]


@pytest.mark.tools
def test_edge_cases_of_the_syntax() -> None:
    _check(EDGE)


@pytest.mark.tools
def test_every_suite_name_and_alias_alone() -> None:
    names = sorted(aliases()) + [s.openssl for s in openssl_suites() if not s.tls13]
    _check(names)


def test_suites_this_openssl_lacks_are_still_expanded() -> None:
    # 3DES and RC4 suites are in the catalogue whether or not this libssl has them.
    names = [s.openssl for s in expand("ALL:RC4:3DES:@STRENGTH").suites]
    assert "DES-CBC3-SHA" in names and "RC4-SHA" in names
    assert names.index("RC4-SHA") < names.index("DES-CBC3-SHA")  # 128 bits before 112
    assert [s.openssl for s in expand("RC4-MD5:!MD5").suites] == []


def test_security_level_filters_usable_suites() -> None:
    result = expand("ALL:RC4:3DES:@SECLEVEL=3")
    assert result.security_level == 3
    usable = result.usable()
    assert usable and all(s.mkey in ("kDHE", "kECDHE", "kDHEPSK", "kECDHEPSK") for s in usable)
    assert all(s.enc != "RC4" for s in expand("RC4:@SECLEVEL=2").usable())
    assert expand("HIGH:@SECLEVEL=9").error


def test_tls13_ciphersuites() -> None:
    suites, unknown = tls13_suites("TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:FOO")
    assert [s.iana for s in suites] == ["TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"]
    assert unknown == ("FOO",)

"""A hostile cache directory is neither executed nor believed.

cryptocheck once kept compiled dataclass methods, catalogue tables and parsed policies as
:mod:`marshal` files in a user-writable cache (``$CRYPTOCHECK_CACHE_DIR``, else
``$XDG_CACHE_HOME/cryptocheck``, else ``~/.cache/cryptocheck``), keyed only by the interpreter
version, the text and the catalogue files' sizes and mtimes: anyone able to write there could
run code inside cryptocheck or change its verdicts while the report's policy hash still looked
right. This test plants, in each of those three places, files with the names and keys that code
computed — a dataclass-method cache whose code objects write a marker file, a TLS table that
makes RC4 and export suites look like AES-256-GCM, known names with a made-up algorithm, and the
default policy with every rule turned ``approved`` — then runs real commands in a subprocess
and checks that no marker appears, nothing is written there, and every output is the same as
in a clean environment.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import marshal
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "cryptocheck" / "catalog"
POLICY = ROOT / "policies" / "nhs-acagpg.toml"

# The commands whose outputs must not move: a certificate scan, a config scan (TLS catalogue,
# OpenSSL cipher strings, the policy) and the policy itself as text.
COMMANDS = (
    ("certs", "tests/corpus/certs", "--format", "json", "-o", "-"),
    ("config", "tests/fixtures/config/nginx", "--format", "json", "-o", "-"),
    ("policy", "show", "nhs-acagpg"),
)

# Prints the texts the standard library compiles for dataclass methods, built the way the old
# cache keyed them (Python 3.11/3.12 ``dataclasses._create_fn``); none where it has another shape.
RECORDER = r'''
import dataclasses, json, sys
texts = []
original = getattr(dataclasses, "_create_fn", None)
if original is not None:
    def recording(name, args, body, *, globals=None, locals=None,
                  return_type=dataclasses.MISSING):
        names = list(locals or {})
        annotation = ""
        if return_type is not dataclasses.MISSING:
            names.append("_return_type")
            annotation = "->_return_type"
        body_text = "\n".join(f"  {b}" for b in body)
        inner = f" def {name}({','.join(args)}){annotation}:\n{body_text}"
        texts.append(f"def __create_fn__({', '.join(names)}):\n{inner}\n return {name}")
        return original(name, args, body, globals=globals, locals=locals,
                        return_type=return_type)
    dataclasses._create_fn = recording
import cryptocheck, cryptocheck.policy, cryptocheck.run, cryptocheck.cli.main
json.dump(texts, sys.stdout)
'''


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("CRYPTOCHECK_CACHE_DIR", "XDG_CACHE_HOME", "PYTHONPATH")}
    env["HOME"] = str(home)
    return env


def _old_source_key() -> str:
    """The key the old cache gave tables built from this catalogue (interpreter version and
    the size and mtime of every catalogue file): all an attacker needs is to read the install."""
    digest = hashlib.sha256(sys.version.encode())
    for folder in (CATALOG, CATALOG / "data"):
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.name.endswith((".py", ".toml")) and entry.is_file():
                info = entry.stat()
                digest.update(f"{folder.name}/{entry.name}:{info.st_size}:{info.st_mtime_ns};"
                              .encode())
    return digest.hexdigest()[:20]


def _marshal_toml(value: Any) -> Any:
    """A parsed TOML document in the old cache's form (dates as tagged tuples)."""
    if isinstance(value, dict):
        return {k: _marshal_toml(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_marshal_toml(v) for v in value]
    for tag, kind in (("datetime", datetime.datetime), ("date", datetime.date),
                      ("time", datetime.time)):
        if isinstance(value, kind):
            return (tag, value.isoformat())
    return value


def _plant(folder: Path, marker: Path, method_texts: list[str]) -> None:
    from cryptocheck.catalog import known_names, tls

    folder.mkdir(parents=True)
    key = _old_source_key()
    # Dataclass methods: each code object writes the marker, then defines the method as asked.
    payload = f"open({str(marker)!r}, 'a').close()\n"
    codes = {text: compile(payload + text, "<string>", "exec", dont_inherit=True)
             for text in method_texts or ["def __create_fn__():\n def f(): pass\n return f"]}
    version = hashlib.sha256(sys.version.encode()).hexdigest()[:12]
    (folder / f"dataclass-code-1-{version}.marshal").write_bytes(marshal.dumps(codes))
    # TLS tables: every suite a strong AEAD one.
    suites = tuple(dataclasses.replace(s, cipher="AESGCM", key_size=256, mode="GCM",
                                       mac="AEAD", aead=True, export=False)
                   for s in tls.cipher_suites())
    rows = tuple(tuple(dataclasses.astuple(item) for item in table)
                 for table in (suites, tls.groups(), tls.signature_schemes()))
    (folder / f"tls-{key}.marshal").write_bytes(marshal.dumps(rows))
    # Known names that would let a policy naming a made-up algorithm through validation.
    names = known_names()
    names["algorithm"] |= {"TRUST-ME-1"}
    (folder / f"known-names-{key}.marshal").write_bytes(marshal.dumps(names))
    # The default policy, every rule approved, under the key of its real text.
    text = POLICY.read_text("utf-8")
    policy = tomllib.loads(text)
    for rule in policy["rule"]:
        rule["status"] = "approved"
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    (folder / f"toml-{digest}-{key}.marshal").write_bytes(marshal.dumps(_marshal_toml(policy)))


def _outputs(env: dict[str, str]) -> list[tuple[int, Any]]:
    results = []
    for command in COMMANDS:
        done = subprocess.run([sys.executable, "-m", "cryptocheck", *command], cwd=ROOT, check=False,
                              env=env, capture_output=True, text=True, timeout=120)
        output: Any = done.stdout
        if command[-1] == "-" and done.returncode in (0, 1):  # everything but the timestamps
            output = json.loads(done.stdout)
            for stamp in ("started", "finished"):
                output.pop(stamp)
        results.append((done.returncode, output or done.stderr))
    return results


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.skipif(not POLICY.is_file(), reason="needs the source checkout's policies/")
def test_planted_cache_files_are_neither_run_nor_believed(tmp_path: Path) -> None:
    clean_home = tmp_path / "clean-home"
    clean_home.mkdir()
    clean = _clean_env(clean_home)
    recorded = subprocess.run([sys.executable, "-c", RECORDER], cwd=ROOT, env=clean,
                              capture_output=True, text=True, check=True, timeout=120)
    method_texts: list[str] = json.loads(recorded.stdout)
    if getattr(dataclasses, "_create_fn", None) is not None:
        assert len(method_texts) > 50  # the planted codes match what the old cache would read

    expected = _outputs(clean)
    assert [code for code, _ in expected] == [1, 1, 0]  # findings at or above disallowed
    assert expected[0][1]["findings"] and expected[1][1]["findings"]
    assert _tree(clean_home) == []  # nothing kept between runs

    home = tmp_path / "home"
    places = {
        "CRYPTOCHECK_CACHE_DIR": (tmp_path / "cache-dir", {"CRYPTOCHECK_CACHE_DIR":
                                                           str(tmp_path / "cache-dir")}),
        "XDG_CACHE_HOME": (tmp_path / "xdg" / "cryptocheck", {"XDG_CACHE_HOME":
                                                              str(tmp_path / "xdg")}),
        "~/.cache": (home / ".cache" / "cryptocheck", {}),
    }
    for label, (folder, variables) in places.items():
        marker = tmp_path / f"executed-{folder.parent.name}"
        _plant(folder, marker, method_texts)
        planted = {p: p.read_bytes() for p in folder.iterdir()}
        env = _clean_env(home) | variables
        got = _outputs(env)
        assert not marker.exists(), f"code planted under {label} was executed"
        for command, (want_code, want), (got_code, output) in zip(COMMANDS, expected, got):
            assert (got_code, output) == (want_code, want), \
                f"{' '.join(command)}: a file planted under {label} changed the result"
        assert {p: p.read_bytes() for p in folder.iterdir()} == planted, \
            f"cryptocheck wrote under {label}"

"""The JSON forms of the shipped TOML files (cryptocheck/catalog/parsed.py) say what the TOML says.

Each ``NAME.parsed.json`` beside a catalogue table or a shipped policy must be exactly what
``scripts/parsed_json.py`` writes from the TOML as it is now, and give back what
:func:`tomllib.loads` gives (types and dates included); a stale, damaged or missing JSON form
is not believed (the TOML is parsed instead), and none is read beside a policy file the user
names.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from cryptocheck.catalog import parsed
from cryptocheck.policy import loader

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted([*parsed.DATA.glob("*.toml"), *Path(loader._policies_folder()).glob("*.toml")])


def test_tables_and_policies_are_covered() -> None:
    names = {path.name for path in SHIPPED}
    assert {"tls.toml", "ssh.toml", "x509.toml", "openssl-ciphers.toml"} <= names
    assert {f"{policy}.toml" for policy in loader.shipped_policy_ids()} <= names


@pytest.mark.parametrize("toml", SHIPPED, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_each_json_form_is_current_and_gives_the_toml(toml: Path) -> None:
    twin = parsed.twin_path(toml)
    assert twin.is_file(), f"{twin.name} missing: run python3 scripts/parsed_json.py"
    assert twin.read_text("utf-8") == parsed.document(toml), \
        f"{twin.name} is stale: run python3 scripts/parsed_json.py"
    expected = tomllib.loads(toml.read_text("utf-8"))
    got = parsed.shipped(toml, toml.read_bytes())
    # repr, not only ==: 1, 1.0 and True are equal, and so are a date and a datetime's date.
    assert got == expected and repr(got) == repr(expected)


def test_a_current_json_form_spares_the_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tomllib, "loads", lambda text: pytest.fail("a TOML text was parsed"))
    assert parsed.load("tls.toml")["suite"]
    policy = loader.load_policy("nhs-acagpg")
    assert policy.rules and any(rule.effective_until for rule in policy.rules)


@pytest.fixture()
def table(tmp_path: Path) -> Path:
    """A copy of a shipped table and its JSON form, in a folder of the test's own."""
    toml = tmp_path / "nist-ir8547.toml"
    source = Path(loader._policies_folder()) / toml.name
    shutil.copy(source, toml)
    shutil.copy(parsed.twin_path(source), parsed.twin_path(toml))
    return toml


def test_an_edited_toml_is_parsed_not_its_old_json_form(table: Path) -> None:
    table.write_text(table.read_text("utf-8") + '\n[edited_after_generation]\nvalue = 1\n',
                     "utf-8")
    loaded = parsed.shipped(table, table.read_bytes())
    assert loaded["edited_after_generation"] == {"value": 1}
    assert loaded == tomllib.loads(table.read_text("utf-8"))


def test_a_json_form_for_another_text_is_not_believed(table: Path) -> None:
    twin = parsed.twin_path(table)
    document = json.loads(twin.read_bytes())
    document["table"] = {"planted": True}
    document["sha256"] = "0" * 64  # made for another text
    twin.write_text(json.dumps(document), "utf-8")
    expected = tomllib.loads(table.read_text("utf-8"))
    assert parsed.shipped(table, table.read_bytes()) == expected
    twin.write_bytes(b"\x00 not json")
    assert parsed.shipped(table, table.read_bytes()) == expected
    twin.unlink()
    assert parsed.shipped(table, table.read_bytes()) == expected


def test_no_json_form_is_read_beside_a_policy_file_the_user_names(table: Path) -> None:
    """A file beside the user's policy, with the right digest, still changes nothing."""
    twin = parsed.twin_path(table)
    document = json.loads(twin.read_bytes())
    for rule in document["table"]["rule"]:
        rule["status"] = "approved"
    twin.write_text(json.dumps(document), "utf-8")
    assert parsed.shipped(table, table.read_bytes())["rule"][0]["status"] == "approved"
    policy = loader.load_policy(table)
    assert {rule.status.value for rule in policy.rules} != {"approved"}
    shipped = loader.load_policy("nist-ir8547")
    assert [(r.id, r.status, r.conditions) for r in policy.rules] == \
        [(r.id, r.status, r.conditions) for r in shipped.rules]


def test_what_json_cannot_give_back_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tagged.toml").write_text('[table]\n"$date" = "2024-01-01"\n', "utf-8")
    with pytest.raises(ValueError, match=r"tagged.toml.table.\$date"):
        parsed.document(tmp_path / "tagged.toml")
    (tmp_path / "infinite.toml").write_text("limit = inf\n", "utf-8")
    with pytest.raises(ValueError, match="infinite.toml.limit"):
        parsed.document(tmp_path / "infinite.toml")


def test_dates_and_times_come_back_as_they_were(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "dated.toml"
    toml.write_text('a = 2030-01-01\nb = 1979-05-27T07:32:00-08:00\nc = 07:32:00.5\n'
                    'd = 1979-05-27T07:32:00Z\ne = 1979-05-27T07:32:00\n'
                    '[[rule]]\nlist = [1, "x", 2024-02-29, 1.5, true]\n', "utf-8")
    parsed.twin_path(toml).write_text(parsed.document(toml), "utf-8")
    expected = tomllib.loads(toml.read_text("utf-8"))
    monkeypatch.setattr(tomllib, "loads", lambda text: pytest.fail("parsed, not read back"))
    got = parsed.shipped(toml, toml.read_bytes())
    assert got == expected and repr(got) == repr(expected)


def test_the_script_finds_nothing_stale() -> None:
    done = subprocess.run([sys.executable, "scripts/parsed_json.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "stale: none" in done.stdout

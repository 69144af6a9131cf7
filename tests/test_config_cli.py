"""The ``config`` command as a CI gate: exit codes, inline waivers, baselines, the walk."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cryptocheck.cli import main
from cryptocheck.sources.config.stream import ConfigOptions, ConfigRun, iter_config_items

FIXTURES = Path(__file__).parent / "fixtures" / "config"
POLICY = str(FIXTURES / "policy.toml")
AS_OF = "2026-11-22"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["config", "--policy", POLICY, "--as-of", AS_OF, *args])
    return result.exit_code, result.stdout, result.stderr


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, "utf-8")
    return tmp_path


GOOD = "http {\n    ssl_protocols TLSv1.2 TLSv1.3;\n}\n"
WEAK = "http {\n    ssl_protocols TLSv1 TLSv1.2;\n}\n"


def _findings(out: str) -> list[dict[str, object]]:
    findings: list[dict[str, object]] = json.loads(out)["findings"]
    return findings


def test_exit_0_when_policy_allows_everything(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"nginx.conf": GOOD})
    code, _, _ = _run(str(repo))
    assert code == 0


def test_exit_1_on_a_disallowed_setting_with_its_line(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"nginx.conf": WEAK})
    code, out, _ = _run(str(repo), "--format", "json")
    assert code == 1
    bad = [f for f in _findings(out) if f["status"] == "disallowed"]
    assert len(bad) == 1
    assert bad[0]["rule"] == "TEST-TLS-PROTO-OLD"
    assert bad[0]["location"]["line"] == 2 and bad[0]["location"]["column"] == 5


def test_fail_on_deprecated_is_stricter(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"nginx.conf": GOOD.replace("TLSv1.3", "TLSv1.3 FOO")})
    assert _run(str(repo))[0] == 0
    # nothing deprecated or unknown either: the unknown word is ignored, as nginx would refuse it
    assert _run(str(repo), "--fail-on", "deprecated")[0] == 0


def test_inline_waiver_covers_the_next_directive(tmp_path: Path) -> None:
    text = ("http {\n    # cryptocheck: allow TEST-TLS-PROTO-OLD until 2099-01-01 -- partner link (CHG-1)\n"
            "    ssl_protocols TLSv1 TLSv1.2;\n}\n")
    repo = _repo(tmp_path, {"nginx.conf": text})
    code, out, _ = _run(str(repo), "--format", "json")
    assert code == 0
    waived = [f for f in _findings(out) if f.get("waiver")]
    assert len(waived) == 1 and waived[0]["location"]["line"] == 3
    # --no-inline-waivers turns them off
    assert _run(str(repo), "--no-inline-waivers")[0] == 1


def test_trailing_inline_waiver_on_the_same_line(tmp_path: Path) -> None:
    text = ("http {\n    ssl_protocols TLSv1 TLSv1.2;  "
            "# cryptocheck: allow TEST-TLS-PROTO-* until 2099-01-01 -- legacy clients\n}\n")
    assert _run(str(_repo(tmp_path, {"nginx.conf": text})))[0] == 0


@pytest.mark.parametrize("comment, problem", [
    ("# cryptocheck: allow TEST-TLS-PROTO-OLD until 2020-01-01 -- was needed once", "expired-waiver"),
    ("# cryptocheck: allow TEST-TLS-PROTO-OLD until 2099-01-01", "waiver-without-reason"),
    ("# cryptocheck: allow whenever", "malformed-waiver"),
])
def test_bad_waiver_is_itself_a_finding_and_fails(tmp_path: Path, comment: str, problem: str) -> None:
    text = f"http {{\n    {comment}\n    ssl_protocols TLSv1.2;\n}}\n"
    repo = _repo(tmp_path, {"nginx.conf": text})
    code, out, err = _run(str(repo), "--format", "json")
    assert code == 1
    assert "waiver comment" in err
    usages = [f["usage"] for f in _findings(out) if f["usage"]["context"] == "config.waiver"]
    assert [u["algorithm"] for u in usages] == [problem]


def test_expired_waiver_does_not_waive(tmp_path: Path) -> None:
    text = ("http {\n    # cryptocheck: allow TEST-TLS-PROTO-OLD until 2020-01-01 -- old\n"
            "    ssl_protocols TLSv1;\n}\n")
    code, out, _ = _run(str(_repo(tmp_path, {"nginx.conf": text})), "--format", "json")
    assert code == 1
    bad = [f for f in _findings(out) if f["status"] == "disallowed" and not f.get("waiver")]
    assert bad and bad[0]["location"]["line"] == 3


def test_baseline_survives_line_moves_but_not_new_findings(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", {"nginx.conf": WEAK, "conf.d/x.conf": "server {\n ssl_protocols TLSv1.1;\n}\n"})
    baseline = tmp_path / "baseline.json"
    code, _, err = _run(str(repo), "--baseline", str(baseline), "--write-baseline")
    assert code == 0, err
    document = json.loads(baseline.read_text())
    assert {e["algorithm"] for e in document["findings"]} == {"TLSv1.0", "TLSv1.1"}
    assert _run(str(repo))[0] == 1
    assert _run(str(repo), "--baseline", str(baseline))[0] == 0
    # Lines added above: the findings moved, the baseline still covers them.
    (repo / "nginx.conf").write_text("# moved\n\n\n" + WEAK, "utf-8")
    code, out, _ = _run(str(repo), "--baseline", str(baseline), "--format", "json")
    assert code == 0
    moved = [f for f in _findings(out) if f["usage"]["algorithm"] == "TLSv1.0"]
    assert moved[0]["location"]["line"] == 5 and moved[0]["waiver"]
    # A new weak setting is a new finding.
    (repo / "conf.d" / "y.conf").write_text("server {\n ssl_protocols SSLv3;\n}\n", "utf-8")
    code, out, _ = _run(str(repo), "--baseline", str(baseline), "--format", "json")
    assert code == 1
    failing = [f for f in _findings(out) if f["status"] == "disallowed" and not f.get("waiver")]
    assert [f["location"]["path"].rsplit("/", 1)[-1] for f in failing] == ["y.conf"]


def test_bad_baseline_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text("{}", "utf-8")
    repo = _repo(tmp_path / "r", {"nginx.conf": GOOD})
    assert _run(str(repo), "--baseline", str(bad))[0] == 2


def test_walk_respects_gitignore_vendored_binary_and_size(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {
        ".gitignore": "ignored/\nskip-*.conf\n",
        "ignored/nginx.conf": WEAK,
        "skip-me.conf": WEAK,
        "node_modules/pkg/nginx.conf": WEAK,
        "big/site.conf": "# " + "x" * 5000 + "\nserver {\n ssl_protocols TLSv1;\n}\n",
        "site.conf": GOOD,
    })
    (repo / "bin.conf").write_bytes(b"ssl_protocols TLSv1;\0\0\0")
    run = ConfigRun()
    items = list(iter_config_items([str(repo)], ConfigOptions(max_file_size=4096), run))
    paths = {i.location.path for i in items}
    assert paths == {str(repo / "site.conf")}
    assert run.walk.skipped_ignored == 2 and run.walk.skipped_vendored == 1
    assert run.walk.skipped_binary == 1 and run.walk.skipped_large == 1
    # --no-gitignore and --include-vendored read them
    run = ConfigRun()
    items = list(iter_config_items([str(repo)], ConfigOptions(gitignore=False, vendored=True), run))
    assert {Path(i.location.path).name for i in items} >= {"nginx.conf", "skip-me.conf", "site.conf"}


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.tools
def test_changed_since_reads_only_changed_files(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"a/nginx.conf": WEAK, "b/site.conf": GOOD})

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@example.org", "-c", "user.name=t", "add", ".")
    git("-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-q", "-m", "one")
    (repo / "b" / "site.conf").write_text(GOOD.replace("TLSv1.2 ", "TLSv1.1 TLSv1.2 "), "utf-8")
    (repo / "c.conf").write_text(GOOD, "utf-8")  # untracked: read too
    items = list(iter_config_items([str(repo)], ConfigOptions(changed_since="HEAD")))
    assert {Path(i.location.path).name for i in items} == {"site.conf", "c.conf"}
    assert _run(str(repo), "--changed-since", "HEAD")[0] == 1  # TLSv1.1 was added
    assert _run(str(repo), "--changed-since", "no-such-ref")[0] == 2


def test_include_read_once_in_scope(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {
        "nginx.conf": "http {\n    include conf.d/*.conf;\n}\n",
        "conf.d/a.conf": "server {\n    server_name a;\n    ssl_protocols TLSv1.2;\n}\n",
    })
    items = list(iter_config_items([str(repo)]))
    assert [(Path(i.location.path).name, i.location.line, i.scope) for i in items] == [
        ("a.conf", 3, "server a")]


def test_unreadable_include_is_an_error_and_the_run_goes_on(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"nginx.conf": "http {\n include missing.conf;\n ssl_protocols TLSv1.2;\n}\n"})
    items = list(iter_config_items([str(repo)]))
    errors = [i for i in items if not hasattr(i, "id")]
    assert len(errors) == 1 and errors[0].location.line == 2
    assert len(items) == 2


def test_explicit_file_that_is_not_config_is_exit_2(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("hello\n", "utf-8")
    assert _run(str(target))[0] == 2


def test_sshd_config_is_read_through_the_ssh_package(tmp_path: Path) -> None:
    pytest.importorskip("cryptocheck.sources.config.sshd")
    repo = _repo(tmp_path, {"etc/ssh/sshd_config": "Ciphers aes128-ctr,3des-cbc\nMACs hmac-sha1\n"})
    items = [i for i in iter_config_items([str(repo)]) if hasattr(i, "kind")]
    explicit = [i for i in items if i.location.line is not None]
    assert {(i.kind, i.directive, i.location.line) for i in explicit} >= {
        ("sshd", "Ciphers", 1), ("sshd", "MACs", 2)}
    from cryptocheck.sources.files.usages import usages_of

    ciphers = [u.algorithm for i in explicit if i.directive == "Ciphers" for u in usages_of(i)]
    assert "3des-cbc" in ciphers


def test_skip_unknown_for_pre_commit(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n", "utf-8")
    conf = tmp_path / "nginx.conf"
    conf.write_text(WEAK, "utf-8")
    assert _run(str(notes), "--skip-unknown")[0] == 0
    assert _run(str(notes), str(conf), "--skip-unknown")[0] == 1


def test_bad_waiver_in_a_file_without_settings_is_still_reported(tmp_path: Path) -> None:
    text = "http {\n    # cryptocheck: allow TEST-TLS-PROTO-OLD until 2020-01-01 -- removed long ago\n}\n"
    repo = _repo(tmp_path, {"nginx.conf": text})
    code, out, _ = _run(str(repo), "--format", "json")
    assert code == 1
    assert [f["usage"]["algorithm"] for f in _findings(out)] == ["expired-waiver"]


@pytest.mark.parametrize("kind", ["nginx", "apache", "haproxy", "terraform", "kubernetes", "java",
                                  "postfix", "openssl"])
def test_json_report_validates_against_the_report_schema(kind: str) -> None:
    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[1] / "cryptocheck" / "schema"
                         / "report.schema.json").read_text("utf-8"))
    code, out, _ = _run(str(FIXTURES / kind), "--format", "json")
    assert code in (0, 1)
    document = json.loads(out)
    jsonschema.validate(document, schema)
    assert document["assets"]


def test_baseline_leaves_out_what_a_waiver_already_covers(tmp_path: Path) -> None:
    text = ("http {\n    # cryptocheck: allow TEST-TLS-PROTO-OLD until 2099-01-01 -- partner (CHG-7)\n"
            "    ssl_protocols TLSv1 TLSv1.2;\n    ssl_protocols SSLv3;\n}\n")
    repo = _repo(tmp_path / "r", {"nginx.conf": text})
    baseline = tmp_path / "b.json"
    assert _run(str(repo), "--baseline", str(baseline), "--write-baseline")[0] == 0
    assert [e["algorithm"] for e in json.loads(baseline.read_text())["findings"]] == ["SSLv3"]

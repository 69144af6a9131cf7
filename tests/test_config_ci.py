"""The CI integration files: the pre-commit hook's command works on the files pre-commit
would pass it, and the GitHub action runs the config command with the options it declares."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml
from click.testing import CliRunner

from cryptocheck.cli import main

ROOT = Path(__file__).resolve().parents[1]
POLICY = str(Path(__file__).parent / "fixtures" / "config" / "policy.toml")


def test_pre_commit_hook_runs_on_the_files_it_selects(tmp_path: Path) -> None:
    hook = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))[0]
    assert hook["id"] == "cryptocheck-config" and hook["pass_filenames"] is True
    entry = shlex.split(hook["entry"])
    assert entry[:2] == ["cryptocheck", "config"]
    files = {"etc/nginx/nginx.conf": "http {\n ssl_protocols TLSv1;\n}\n",
             "k8s/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\n",
             "notes/site.conf": "just some notes\n", "README.md": "# readme\n"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, "utf-8")
    selected = [str(tmp_path / n) for n in files if re.search(hook["files"], n)]
    assert len(selected) == 3  # README.md is not passed
    result = CliRunner().invoke(main, [*entry[1:], "--policy", POLICY, *selected])
    assert result.exit_code == 1, result.output  # TLS 1.0 in nginx.conf; the rest skipped
    ok = [p for p in selected if not p.endswith("nginx.conf")]
    result = CliRunner().invoke(main, [*entry[1:], "--policy", POLICY, *ok])
    assert result.exit_code == 0, result.output


def test_action_uses_existing_options() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text("utf-8"))
    script = "\n".join(step.get("run", "") for step in action["runs"]["steps"])
    used = set(re.findall(r"(--[a-z][a-z-]+)", script))
    help_text = CliRunner().invoke(main, ["config", "--help"]).output
    assert used <= set(re.findall(r"(--[a-z][a-z-]+)", help_text)) | {"--names"}
    assert {"paths", "policy", "fail-on", "baseline", "sarif-file"} <= set(action["inputs"])

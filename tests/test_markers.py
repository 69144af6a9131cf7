"""The need markers are checked, not trusted (tests/servers/needs.py): run in a pytest of
their own, tests that start a server or run a program without saying so fail, and those
that say so pass and leave the quick run (``-m "not integration"``)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

INNER = '''
import subprocess, sys
import pytest
from servers.needs import declares
from servers.tls import s_server

def test_runs_a_program_unmarked():
    subprocess.run(["/bin/sh", "-c", "exit 0"], check=True)

@pytest.mark.tools
def test_runs_a_program_marked():
    subprocess.run(["/bin/sh", "-c", "exit 0"], check=True)

def test_catches_the_refusal():
    try:
        subprocess.run(["/bin/sh", "-c", "exit 0"], check=True)
    except Exception:
        pass  # as a source turning "could not start" into an error record would

def test_runs_python_unmarked():
    subprocess.run([sys.executable, "-c", "pass"], check=True)

def test_starts_s_server_unmarked():
    with s_server():
        pass

@pytest.fixture
@declares("tools")
def made_by_a_program():
    subprocess.run(["/bin/sh", "-c", "exit 0"], check=True)

def test_uses_a_declared_fixture(made_by_a_program):
    pass
'''


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytest project with this suite's conftest, markers and servers package."""
    markers = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    pytester.makepyprojecttoml(
        "[tool.pytest.ini_options]\nmarkers = [\n" + "".join(
            f"    {marker!r},\n" for marker in
            markers["tool"]["pytest"]["ini_options"]["markers"]) + "]\n")
    pytester.makeconftest((TESTS / "conftest.py").read_text("utf-8"))
    pytester.makepyfile(test_inner=INNER)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), str(ROOT)]))
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # faster; none is needed
    return pytester


def _outcomes(result: pytest.RunResult) -> dict[str, str]:
    outcomes = {}
    for line in result.outlines:
        name, _, outcome = line.partition(" ")
        if "::" in name and outcome.split(" ")[0] in ("PASSED", "FAILED", "ERROR"):
            outcomes[name.split("::")[1]] = outcome.split(" ")[0]
    return outcomes


def test_undeclared_needs_fail_and_declared_ones_pass(inner: pytest.Pytester) -> None:
    result = inner.runpytest_subprocess("-v", "-p", "no:cacheprovider")
    assert _outcomes(result) == {
        "test_runs_a_program_unmarked": "FAILED",
        "test_runs_a_program_marked": "PASSED",
        "test_catches_the_refusal": "FAILED",
        "test_runs_python_unmarked": "PASSED",
        "test_starts_s_server_unmarked": "FAILED",
        "test_uses_a_declared_fixture": "PASSED",
    }, result.stdout.str()
    output = result.stdout.str()
    assert "runs /bin/sh but is not marked @pytest.mark.tools" in output
    assert "starts openssl s_server but is not marked @pytest.mark.tls_server" in output


def test_the_quick_run_leaves_out_what_is_marked(inner: pytest.Pytester) -> None:
    result = inner.runpytest_subprocess("-v", "-p", "no:cacheprovider", "-m", "not integration")
    assert set(_outcomes(result)) == {
        "test_runs_a_program_unmarked", "test_catches_the_refusal", "test_runs_python_unmarked",
        "test_starts_s_server_unmarked"}, result.stdout.str()
    result.assert_outcomes(passed=1, failed=3, deselected=2)

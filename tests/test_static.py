"""The code stays `ruff` clean and `mypy --strict` clean (STYLE.md: small habits)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def test_ruff_is_clean() -> None:
    result = _run("ruff", "check", "cryptocheck", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = _run("mypy", "--strict", "cryptocheck")
    assert result.returncode == 0, result.stdout + result.stderr

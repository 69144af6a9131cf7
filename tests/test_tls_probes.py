"""The TLS and SSH scanners as probe records: the import boundary with the policy engine, the
probe lists (names, needs, budgets, facts) and the scheduler that runs them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNERS = ("tls", "ssh")
# The source record (``source.py``) is the caller's side of the boundary: it may build the
# predicate from a policy. Everything else in the scanner packages must not know the policy.
CALLER_SIDE = {"source.py"}


def _modules(package: str) -> list[Path]:
    folder = ROOT / "cryptocheck" / "sources" / package
    return sorted(p for p in folder.rglob("*.py") if p.name not in CALLER_SIDE)


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("package", SCANNERS)
def test_scanners_do_not_import_the_policy_engine(package: str) -> None:
    # The compliance predicate is handed in (TlsOptions.approves): no import, even a lazy
    # one inside a function, reaches cryptocheck.policy.
    offenders = {str(p.relative_to(ROOT)): sorted(n for n in _imported(p)
                                                  if n.split(".")[:2] == ["cryptocheck", "policy"])
                 for p in _modules(package)}
    assert not {k: v for k, v in offenders.items() if v}


def test_importing_every_scanner_module_loads_no_policy_module() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "for name in ('cryptocheck.sources.tls', 'cryptocheck.sources.ssh'):\n"
        "    package = importlib.import_module(name)\n"
        "    for info in pkgutil.walk_packages(package.__path__, name + '.'):\n"
        "        if info.name.rsplit('.', 1)[-1] != 'source':\n"
        "            importlib.import_module(info.name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('cryptocheck.policy')))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"

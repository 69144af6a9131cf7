"""Shared fixtures (where the corpus is, the passwords of its encrypted keys) and the
markers that say what a test needs (see tests/servers/needs.py for what each means and how
it is checked)."""

from __future__ import annotations

import sys
from collections.abc import Generator
from pathlib import Path

import pytest
from servers import needs

CORPUS = Path(__file__).resolve().parent / "corpus"


def read_corpus_passwords(corpus: Path = CORPUS) -> tuple[str, ...]:
    """The passwords in ``corpus/passwords.txt``: one per line, ``#`` lines are comments."""
    lines = (corpus / "passwords.txt").read_text(encoding="utf-8").splitlines()
    return tuple(line for line in lines if line and not line.startswith("#"))


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The committed corpus made by ``tests/corpus/make_corpus.sh`` (see its README.md)."""
    assert (CORPUS / "certs").is_dir(), "tests/corpus is missing: run tests/corpus/make_corpus.sh"
    return CORPUS


@pytest.fixture(scope="session")
def corpus_passwords(corpus_dir: Path) -> tuple[str, ...]:
    """Passwords of the encrypted keys of the corpus."""
    return read_corpus_passwords(corpus_dir)


_audit_installed = False


def pytest_configure(config: pytest.Config) -> None:
    """Check the need markers are registered (pyproject.toml) and install the audit hook
    that refuses an undeclared program. An audit hook cannot be removed, so it is
    installed once per process and does nothing outside a test."""
    global _audit_installed
    registered = {line.split(":", 1)[0].strip() for line in config.getini("markers")}
    missing = sorted({needs.UMBRELLA, *needs.NEEDS} - registered)
    if missing:
        raise pytest.UsageError(f"markers not registered in pyproject.toml: {missing}")
    if not _audit_installed:
        sys.addaudithook(needs.audit)
        _audit_installed = True


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test carries the needs of the fixtures it uses (``needs.declares``), and every
    finer need implies ``integration``. tryfirst, so that ``-m "not integration"`` (which
    deselects in the same hook) already sees them."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)  # Function items: the fixture closure
        for definitions in (info.name2fixturedefs.values() if info else ()):
            for name in needs.declared_by(definitions[-1].func):  # the one in effect
                if item.get_closest_marker(name) is None:
                    item.add_marker(name)
        if item.get_closest_marker(needs.UMBRELLA) is None and any(
                item.get_closest_marker(name) is not None for name in needs.NEEDS):
            item.add_marker(needs.UMBRELLA)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Name the running test before its fixtures start anything (module fixtures included:
    the first test that uses one must declare what it starts)."""
    needs.begin(item.nodeid, (mark.name for mark in item.iter_markers()))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """A need refused during the test fails it, even when the code under test caught the
    refusal (a program that could not start can become an error record)."""
    result = yield
    refused = needs.refused()
    if refused:
        raise needs.UndeclaredNeed("; ".join(refused))
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, object, object]:
    """Forget the test once its fixtures are torn down."""
    try:
        return (yield)
    finally:
        needs.end()

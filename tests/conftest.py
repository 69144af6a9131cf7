"""Shared fixtures: where the corpus is and the passwords of its encrypted keys."""

from __future__ import annotations

from pathlib import Path

import pytest

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

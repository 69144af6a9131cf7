"""The config kinds are one table: every kind the detection can name is read by a parser of
:data:`cryptocheck.sources.config.stream.PARSERS` (or by the sshd/ssh reader), and every parser has
its golden fixture (tests/test_config_golden.py runs over PARSERS)."""

from __future__ import annotations

import importlib
from pathlib import Path

from cryptocheck.sources.config import kinds
from cryptocheck.sources.config.stream import PARSERS

# sshd_config and ssh_config are read by cryptocheck.sources.config.sshd, not through PARSERS.
SSH_KINDS = {"sshd", "ssh"}
FIXTURES = Path(__file__).parent / "fixtures" / "config"


def test_every_kind_named_by_a_file_name_has_a_reader() -> None:
    named = set(kinds._BY_NAME.values()) | {kinds.kind_by_name("main.tf")}
    assert named - SSH_KINDS <= set(PARSERS), named - SSH_KINDS - set(PARSERS)


def test_every_fixture_folder_is_detected_as_its_own_kind() -> None:
    for kind in PARSERS:
        files = [p for p in (FIXTURES / kind).rglob("*")
                 if p.is_file() and p.name != "expected.txt"]
        detected = {kinds.detect_kind(str(p), p.read_text("utf-8", "replace")) for p in files}
        assert kind in detected, (kind, detected)


def test_every_parser_module_has_parse() -> None:
    for kind, module in PARSERS.items():
        assert callable(getattr(importlib.import_module(module), "parse", None)), kind

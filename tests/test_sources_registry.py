"""The source registry is the one table of sources; the run is the one composition; the
config source's waivers travel in its stream; one function decides the exit code."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from cryptocheck.cli import main
from cryptocheck.cli.common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, exit_code
from cryptocheck.cli.main import COMMANDS, _plain_command
from cryptocheck.model import Asset, ConfigAsset, Location, Waiver
from cryptocheck.report import FORMATS, REPORT_FORMATS, report_format
from cryptocheck.run import scan
from cryptocheck.sources.files import SourceStats
from cryptocheck.sources.registry import (
    LOWER,
    REGISTRY,
    Item,
    Source,
    UnknownSource,
    get_source,
    source_names,
)

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus" / "certs"
DAY = date(2026, 11, 22)
WAIVED = ("server {\n"
          "    # cryptocheck: allow NHS-TLS-PROTO-* until 2099-12-31 -- partner link (CHG-1)\n"
          "    ssl_protocols TLSv1 TLSv1.2;\n"
          "    ssl_protocols SSLv3;\n"
          "}\n")


@pytest.mark.parametrize("name", source_names())
def test_each_source_record_is_complete(name: str) -> None:
    record = get_source(name)
    assert record.name == name
    assert record.help and "\n" not in record.help and record.nothing_found
    assert isinstance(record.network, bool)
    assert callable(record.items) and callable(record.usages) and callable(record.bind)
    # The options class is a frozen dataclass whose defaults are the defaults.
    assert dataclasses.is_dataclass(record.options)
    assert record.options.__dataclass_params__.frozen  # type: ignore[attr-defined]
    options = record.default_options()
    defaults = record.option_defaults()
    assert set(defaults) == {f.name for f in dataclasses.fields(record.options)}
    # What a request may tune is an option of the source, with a rule its default obeys.
    assert record.tunable
    for option, rule in record.tunable.items():
        assert option in defaults, (name, option)
        default = defaults[option]
        if rule == LOWER:
            assert isinstance(default, int | float) and not isinstance(default, bool), option
        elif rule is bool:
            assert isinstance(default, bool), option
        else:
            assert isinstance(rule, tuple) and default in rule, option
    # With its default options no source needs the policy before its stream starts.
    bound = record.bind(options, lambda: pytest.fail("the policy is not needed"), DAY)
    assert isinstance(bound, record.options)


def test_registry_lines_are_distinct_and_name_their_asset_types() -> None:
    names = [entry.name for entry in REGISTRY]
    kinds = [kind for entry in REGISTRY for kind in entry.asset_types]
    assert len(set(names)) == len(names) and len(set(kinds)) == len(kinds)
    assert {"certificate", "tls-endpoint", "ssh-endpoint", "config-setting"} <= set(kinds)
    with pytest.raises(UnknownSource):
        get_source("nope")


def test_no_second_table_of_sources_commands_or_formats() -> None:
    # The per-kind tables the two registries replaced stay gone, and only the registry names
    # a source's record module (a second table would drift from it).
    gone = re.compile(r"^\s*(LAZY_COMMANDS|SOURCE_USAGES|_REPORTERS|TUNABLE|MEDIA_TYPES)\b",
                      re.MULTILINE)
    record_module = re.compile(r"[\"']cryptocheck\.sources\.\w+\.source[\"']")
    registry = ROOT / "cryptocheck" / "sources" / "registry.py"
    for path in sorted((ROOT / "cryptocheck").rglob("*.py")):
        text = path.read_text("utf-8")
        assert not gone.search(text), path
        if path != registry:
            assert not record_module.search(text), path
    assert not (ROOT / "cryptocheck" / "plugins.py").exists()


def test_the_cli_lists_exactly_the_registered_sources_and_its_own_commands() -> None:
    ctx = click.Context(main)
    listed = main.list_commands(ctx)  # type: ignore[attr-defined]
    assert set(listed) == set(source_names()) | set(COMMANDS)
    assert not set(source_names()) & set(COMMANDS)
    for name in source_names():
        command = main.get_command(ctx, name)  # type: ignore[attr-defined]
        assert command is not None and command.name == name
    assert main.get_command(ctx, "nope") is None  # type: ignore[attr-defined]


def test_a_source_without_a_cli_module_still_gets_a_working_command() -> None:
    # What a newly registered source gets for free: targets and the common options.
    plain = _plain_command(get_source("certs"))
    args = [str(CORPUS / "chain-leaf-rsa-2048.pem"), "--as-of", "2026-11-22", "--format", "json"]
    got = CliRunner().invoke(plain, args)
    expected = CliRunner().invoke(main, ["certs", *args])
    assert got.exit_code == expected.exit_code
    assert got.stdout.count('"rule"') == expected.stdout.count('"rule"') > 0


def test_certs_starts_without_the_network_scanners() -> None:
    code = ("import sys\n"
            "from cryptocheck.cli import main\n"
            "try:\n    main(['certs', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith(('cryptocheck.sources.tls',"
            " 'cryptocheck.sources.ssh', 'cryptocheck.sources.config', 'asyncio'))))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def _bound(name: str, **options: Any) -> Any:
    record = get_source(name)
    return record.bind(record.options(**options), lambda: pytest.fail("no policy"), DAY)


def test_config_inline_waivers_arrive_as_waiver_items_ahead_of_their_asset(
        tmp_path: Path) -> None:
    (tmp_path / "site.conf").write_text(WAIVED, "utf-8")
    items = list(get_source("config").items([str(tmp_path)], _bound("config"), SourceStats()))
    waivers = [(i, item) for i, item in enumerate(items) if isinstance(item, Waiver)]
    assert len(waivers) == 1
    index, waiver = waivers[0]
    covered = items[index + 1]
    assert isinstance(covered, ConfigAsset) and covered.location.line == 3
    assert waiver.asset == covered.id and waiver.rule == "NHS-TLS-PROTO-*"
    assert waiver.expires == date(2099, 12, 31) and "CHG-1" in waiver.reason
    # The run applies it from the stream: the covered line is waived, the next one is not.
    report = scan("config", [str(tmp_path)], policy=None, as_of=DAY)
    assert waiver in report.waivers
    assert {f.location.line for f in report.findings if f.waived} == {3}
    assert any(f.location.line == 4 and not f.waived and f.status.value == "disallowed"
               for f in report.findings)
    # Switched off, no waiver is in the stream.
    off = get_source("config").items([str(tmp_path)], _bound("config", inline_waivers=False),
                                     SourceStats())
    assert not any(isinstance(item, Waiver) for item in off)


def test_baseline_entries_arrive_as_waiver_items_too(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "site.conf").write_text(WAIVED.replace("# cryptocheck", "# nothing"), "utf-8")
    baseline = tmp_path / "baseline.json"
    runner = CliRunner()
    written = runner.invoke(main, ["config", str(repo), "--as-of", "2026-11-22", "--baseline",
                                   str(baseline), "--write-baseline"])
    assert written.exit_code == 0, written.stderr
    items = list(get_source("config").items([str(repo)], _bound("config", baseline=str(baseline)),
                                            SourceStats()))
    waivers = [item for item in items if isinstance(item, Waiver)]
    assert waivers and all(w.owner == "baseline" for w in waivers)
    assets = {item.id for item in items if isinstance(item, ConfigAsset)}
    assert {w.asset for w in waivers} <= assets
    assert runner.invoke(main, ["config", str(repo), "--as-of", "2026-11-22", "--baseline",
                                str(baseline)]).exit_code == EXIT_OK


def test_the_run_starts_the_stream_before_it_loads_the_policy_and_opens_reporters() -> None:
    events: list[str] = []
    certs = get_source("certs")

    def items(targets: Sequence[str], options: Any, stats: SourceStats) -> Iterator[Item]:
        events.append("stream")
        return certs.items(targets, options, stats)

    def bind(options: Any, policy: Any, as_of: date) -> Any:
        events.append("bind")
        return options

    record = dataclasses.replace(certs, items=items, bind=bind)

    def reporters() -> list[Any]:
        events.append("reporters")
        return []

    report = scan(record, [str(CORPUS / "chain-leaf-rsa-2048.pem")], as_of=DAY, reporters=reporters)
    assert events == ["bind", "stream", "reporters"]
    assert report.summary is not None and report.summary.assets == 3


def test_compliance_mode_binds_the_policy_before_the_stream_starts() -> None:
    asked: list[str] = []

    def policy() -> Any:
        asked.append("policy")
        from cryptocheck.policy import load_policy

        return load_policy(None)

    from cryptocheck.run import bind
    from cryptocheck.sources.tls.usages import protocol_usage

    tls = get_source("tls")
    full = bind(tls, tls.options(), policy, DAY)
    assert asked == [] and full == tls.options()
    compliance = bind(tls, tls.options(mode="compliance"), policy, DAY)
    assert asked == ["policy"] and compliance.mode == "compliance"
    # The source gets the policy's verdict as a predicate, never the policy.
    assert compliance.approves is not None
    assert compliance.approves(protocol_usage("TLSv1.3"))
    assert not compliance.approves(protocol_usage("TLSv1.0"))


@pytest.mark.parametrize(("counts", "code"), [
    ({"assets": 0, "errors": 2, "failing": 0}, EXIT_USAGE),
    ({"assets": 0, "errors": 2, "failing": 0, "invalid_waivers": 1}, EXIT_USAGE),
    ({"assets": 3, "errors": 1, "failing": 0}, EXIT_OK),
    ({"assets": 3, "errors": 0, "failing": 2}, EXIT_FINDINGS),
    ({"assets": 3, "errors": 0, "failing": 0, "invalid_waivers": 1}, EXIT_FINDINGS),
    ({"assets": 0, "errors": 0, "failing": 0}, EXIT_OK),
])
def test_one_exit_decision(counts: dict[str, int], code: int) -> None:
    assert exit_code(**counts) == code


def test_report_formats_are_one_registry_with_their_media_types() -> None:
    assert FORMATS == tuple(fmt.name for fmt in REPORT_FORMATS)
    for fmt in REPORT_FORMATS:
        assert report_format(fmt.name) is fmt
        assert "/" in fmt.media_type
        assert callable(fmt.reporter_class())
    with pytest.raises(ValueError, match="unknown report format"):
        report_format("nope")


def test_findings_of_any_asset_come_from_its_source_record() -> None:
    asset: Asset = ConfigAsset(id="config:x:1:ssl_protocols", location=Location(path="x", line=1),
                               kind="nginx", directive="ssl_protocols", value="TLSv1",
                               details={"protocols": ["TLSv1.0"]})
    record: Source = get_source("config")
    assert [u.algorithm for u in record.usages(asset)] == ["TLSv1.0"]


def test_the_library_scan_is_the_same_run(tmp_path: Path) -> None:
    import cryptocheck

    (tmp_path / "site.conf").write_text(WAIVED, "utf-8")
    library = cryptocheck.scan([str(tmp_path)], None, DAY, source="config")
    direct = scan("config", [str(tmp_path)], policy=None, as_of=DAY)
    assert library.command == direct.command == "config"
    assert library.findings == direct.findings and library.waivers == direct.waivers
    assert library.summary is not None and library.summary.waived == 1
    asset = next(a for a in library.assets if isinstance(a, ConfigAsset))
    assert list(cryptocheck.usages_of(asset)) == list(get_source("config").usages(asset))

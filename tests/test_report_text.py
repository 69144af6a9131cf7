"""The text reporter: what a person reads. Order, counts, hostile input, colour."""

from __future__ import annotations

import re
from dataclasses import replace
from io import StringIO

from cryptocheck.model import Status
from cryptocheck.report import header_from_report, make_reporter, replay
from cryptocheck.report.sample import assets, empty_report, sample_report
from cryptocheck.report.terminal import display_width, fit, printable
from cryptocheck.report.text import describe_asset, describe_key, short_name

ANSI = re.compile(r"\x1b\[")


def render(report=None, *, color: bool = False, show_approved: bool = False) -> str:  # type: ignore[no-untyped-def]
    stream = StringIO()
    replay(report or sample_report(),
           make_reporter("text", stream, color=color, show_approved=show_approved))
    return stream.getvalue()


def table_rows(text: str) -> list[str]:
    """The finding rows of the table (between the STATUS heading and the first blank-after)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("STATUS"))
    rows = []
    for line in lines[start + 1:]:
        if line.endswith("not listed.") or line.startswith(("Errors", "Chains")):
            break
        if line:
            rows.append(line)
    return rows


def test_header_names_policy_and_date() -> None:
    text = render()
    lines = text.splitlines()
    assert lines[0].startswith("cryptocheck 0.1.0  certs bundle.pem")
    assert "(+1 more)" in lines[0]  # six targets, five shown
    assert lines[1] == "Policy  nhs-acag 2024.1 — NHS Approved Cryptographic Algorithms"
    assert lines[2] == "As of   2025-06-01"


def test_findings_worst_first_and_approved_only_counted() -> None:
    text = render()
    statuses = [row.split()[0] for row in table_rows(text)]
    assert statuses == ["disallowed", "disallowed", "unknown", "unknown", "deprecated", "legacy"]
    assert "3 approved findings not listed." in text
    assert "ed25519" not in text.split("not listed.")[0]


def test_show_approved_lists_them_last() -> None:
    text = render(show_approved=True)
    statuses = [row.split()[0] for row in table_rows(text)]
    assert statuses[-3:] == ["approved"] * 3
    assert "not listed" not in text


def test_rows_describe_asset_location_and_message() -> None:
    rows = table_rows(render())
    first = rows[0]
    assert "rsa-key-min-2048" in first
    assert "CN=example.com (RSA 1024)" in first
    assert "bundle.pem:1#0" in first
    assert first.endswith("RSA 1024-bit keys are disallowed; use at least 2048 bits")
    assert any("private key (RSA size unknown)" in row for row in rows)


def test_waiver_and_expired_waiver_are_shown() -> None:
    rows = table_rows(render())
    waived = next(r for r in rows if "sig-sha1" in r)
    assert "[waived W-1 until 2026-01-31, owner pki-team@example.org:" in waived
    # a waived finding comes after the unwaived ones of its status
    assert rows.index(waived) == 1
    noted = next(r for r in rows if "cert-validity-max" in r)
    assert noted.endswith("[waiver W-0 expired on 2024-12-31]")


def test_errors_listed_with_location_and_reason() -> None:
    text = render()
    errors = text.split("Errors (2)\n", 1)[1].splitlines()
    assert errors[1].startswith("certs/bro\\udcffken.pem:40#2")
    assert "malformed-der" in errors[1]
    assert errors[2].startswith("tls.example.net:8443")
    assert "unreadable" in errors[2] and errors[2].endswith("connection timed out after 10 s")


def test_summary_line_counts_worst_first_without_verdict() -> None:
    last = render().splitlines()[-1]
    assert last == ("5 assets, 2 errors: 2 disallowed, 2 unknown, 1 deprecated, 1 legacy, "
                    "3 approved (1 waived) — worst status: disallowed")
    assert "FAIL" not in render() and "PASS" not in render()


def test_empty_run() -> None:
    text = render(empty_report())
    assert "No findings to list." in text
    assert text.splitlines()[-1] == "0 assets, 0 errors: no findings"


def test_singular_nouns() -> None:
    report = sample_report()
    assert report.summary is not None
    one = replace(report, assets=report.assets[:1], errors=report.errors[:1],
                  summary=replace(report.summary, assets=1, errors=1))
    assert render(one).splitlines()[-1].startswith("1 asset, 1 error: ")


def test_no_ansi_without_colour_even_from_hostile_subjects() -> None:
    text = render(show_approved=True)
    assert not ANSI.search(text)
    assert "\x1b" not in text and "\u202e" not in text
    # the subject's newline did not start a forged line
    assert not any(line.startswith("FAKE") for line in text.splitlines())
    assert "CN=evil\\x1b[31m\\nFAKE" in text


def test_colour_when_asked_and_alignment_unchanged() -> None:
    plain, coloured = render(), render(color=True)
    assert ANSI.search(coloured)
    assert "\x1b[1;31mdisallowed" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_columns_align_with_wide_characters() -> None:
    text = render(show_approved=True)
    rows = table_rows(text)
    heading = next(line for line in text.splitlines() if line.startswith("STATUS"))
    column = display_width(heading[: heading.index("LOCATION")])
    for row in rows:
        location_start = row.index(" bundle.pem") + 1 if " bundle.pem" in row else None
        if location_start is not None:
            assert display_width(row[:location_start]) == column, row


def test_deterministic_and_independent_of_arrival_order() -> None:
    report = sample_report()
    assert render(report) == render(report)
    reversed_report = replace(report, assets=tuple(reversed(report.assets)),
                              errors=tuple(reversed(report.errors)))
    assert render(reversed_report) == render(report)


def test_streams_header_before_items() -> None:
    report = sample_report()
    stream = StringIO()
    reporter = make_reporter("text", stream)
    reporter.begin(header_from_report(report))
    assert "Policy  nhs-acag" in stream.getvalue()


def test_descriptions() -> None:
    leaf, root, odd, private, public = assets()
    assert describe_asset(leaf) == "CN=example.com (RSA 1024)"
    assert describe_asset(root) == "CN=Ünïcødé Root 例え (EC secp256r1)"
    assert describe_asset(odd).endswith("(unknown 1.2.3.4.5)")
    assert describe_asset(private) == "private key (RSA size unknown)"
    assert describe_asset(public) == "alice@laptop — ключ (Ed25519 256)"
    assert describe_key("Ed448", None, None, None) == "Ed448"
    assert describe_key("unknown", None, None, None) == "unknown"
    assert short_name("O=No CN Ltd,C=GB") == "O=No CN Ltd"
    assert short_name("CN=a\\,b,O=x") == "CN=a\\,b"
    assert short_name("") == "(empty subject)"


def test_text_helpers() -> None:
    assert printable("a\nb\x1b[0m\u202ec") == "a\\nb\\x1b[0m\\u202ec"
    assert printable("普通 text") == "普通 text"
    assert display_width("例え") == 4 and display_width("e\u0301") == 1
    assert fit("abcdef", 4) == "abc…"
    assert fit("dir/sub/file.pem", 9, keep_end=True) == "…file.pem"
    assert display_width(fit("例え例え例え", 5)) <= 5
    assert fit("short", 10) == "short"


def test_status_sort_uses_rank_not_name() -> None:
    # unknown ranks between deprecated and disallowed (model.Status.rank)
    text = render()
    order = [row.split()[0] for row in table_rows(text)]
    ranks = [Status(s).rank for s in order]
    assert ranks == sorted(ranks, reverse=True)


def test_shortened_description_keeps_the_key() -> None:
    leaf = assets()[0]
    long = replace(leaf, subject="CN=" + "very-long-host-name." * 5 + "example")  # type: ignore[arg-type]
    cell = describe_asset(long, 30)
    assert display_width(cell) <= 30
    assert cell.endswith("… (RSA 1024)") and cell.startswith("CN=very-long")
    assert describe_key("Ed25519", 256, "ed25519", "1.3.101.112") == "Ed25519"


def test_chains_show_their_weakest_link() -> None:
    text = render()
    if "Chains (" not in text:
        raise AssertionError("the sample report has a chain; the text report must show it")
    section = text.split("Chains (", 1)[1]
    assert "->" in section.splitlines()[1]
    assert "weakest link:" in section


def test_long_tables_spilled_to_disk_read_the_same(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Past SPILL_ROWS rows the reporter writes sorted runs to temporary files and merges
    them at the end: the text of a real scan of the corpus is the same either way."""
    from pathlib import Path

    from click.testing import CliRunner

    from cryptocheck import cli
    from cryptocheck.report import external_sort

    corpus = str(Path(__file__).resolve().parent / "corpus")
    args = ["certs", corpus, "--as-of", "2026-11-22", "--show-approved", "--format", "text"]
    held = CliRunner().invoke(cli.main, args)
    runs: list[int] = []
    real_write_run = external_sort._write_run

    def counting(rows):  # type: ignore[no-untyped-def]
        runs.append(len(rows))
        return real_write_run(rows)

    monkeypatch.setattr(external_sort, "SPILL_ROWS", 7)
    monkeypatch.setattr(external_sort, "_BATCH", 3)  # each run in several pickles
    monkeypatch.setattr(external_sort, "_write_run", counting)
    spilled = CliRunner().invoke(cli.main, args)
    assert held.exit_code == spilled.exit_code == 1
    assert len(runs) > 10 and set(runs) == {7}
    assert len(table_rows(held.output)) > 100
    assert spilled.output == held.output

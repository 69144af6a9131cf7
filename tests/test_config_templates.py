"""Configuration usages are made and judged once per distinct setting (templates) and stamped
with each asset's id and location: the findings must be exactly those of judging every
usage afresh, waivers (in force, expired, per asset, per path) included."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from cryptocheck.model import ConfigAsset, Finding, Location, RunError, Waiver
from cryptocheck.policy import Policy, judge, load_policy
from cryptocheck.policy.engine import judge_templates
from cryptocheck.run import findings_for, scan
from cryptocheck.sources.config import usages as config_usages
from cryptocheck.sources.config.stream import ConfigRun, config_stream, iter_config_items
from cryptocheck.sources.files.usages import usages_of

FIXTURES = Path(__file__).parent / "fixtures" / "config"
DAY = date(2026, 11, 22)


_POLICIES: dict[str | None, Policy] = {}


def _fresh(asset: ConfigAsset, policy_id: str | None, day: date,
           waivers: list[Waiver]) -> list[Finding]:
    """Every usage made without templates and judged one by one (the reference)."""
    policy = _POLICIES.get(policy_id) or _POLICIES.setdefault(policy_id, load_policy(policy_id))
    if asset.kind in ("sshd", "ssh"):
        made = list(usages_of(asset))
    else:
        made = list(config_usages._usages(asset.id, asset.location, asset.kind, asset.directive,
                                          asset.details))
    return [judge(u, policy, day, waivers, {}) for u in made]


def _config_assets(paths: list[str], run: ConfigRun) -> list[ConfigAsset]:
    return [i for i in iter_config_items(paths, run=run)
            if not isinstance(i, RunError) and isinstance(i, ConfigAsset)]


def test_every_fixture_setting_is_judged_as_without_templates() -> None:
    run = ConfigRun()
    assets = _config_assets([str(FIXTURES)], run)
    assert len(assets) > 50
    policy = load_policy(None)
    some = next(a for a in reversed(assets)
                if any(f.status.value != "approved" for f in _fresh(a, None, DAY, [])))
    waivers = [w for w in config_stream([str(FIXTURES)]) if isinstance(w, Waiver)] + [
        Waiver(id="w-rule", owner="o", reason="r", expires=date(2030, 1, 1), rule="NHS-TLS-*",
               path="*/nginx/*"),
        Waiver(id="w-old", owner="o", reason="r", expires=date(2020, 1, 1), rule="*"),
        Waiver(id="w-asset", owner="o", reason="r", expires=date(2030, 1, 1), asset=some.id),
    ]
    checked = 0
    for day in (DAY, date(2031, 1, 1)):
        for asset in assets:
            expected = _fresh(asset, None, day, waivers)
            assert findings_for(asset, policy, day, waivers) == expected, asset.id
            checked += len(expected)
    assert checked > 500
    judged = [f for a in assets for f in findings_for(a, policy, DAY, waivers)]
    assert any(f.waiver is not None and f.waiver.id == "w-rule" for f in judged)
    assert any(f.waiver_note and "w-old" in f.waiver_note for f in judged)
    assert any(f.waiver is not None and f.waiver.id == "w-asset" for f in judged
               if f.asset_id == some.id)
    assert all(f.waiver is None or f.waiver.id != "w-asset" for f in judged
               if f.asset_id != some.id)


def test_equal_settings_share_one_template_and_keep_their_own_place(tmp_path: Path) -> None:
    text = "server {\n    ssl_protocols TLSv1 TLSv1.2;\n    ssl_ciphers HIGH:RC4-SHA;\n}\n"
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "site.conf").write_text(text, "utf-8")
    assets = _config_assets([str(tmp_path)], ConfigRun())
    by_directive: dict[str, list[ConfigAsset]] = {}
    for asset in assets:
        by_directive.setdefault(asset.directive, []).append(asset)
    first, second = by_directive["ssl_ciphers"]
    templates = config_usages.usage_templates(first)
    assert templates is not None and templates is config_usages.usage_templates(second)
    assert all(t.asset_id == "" and t.location == Location() for t in templates)
    policy = load_policy(None)
    one, two = (findings_for(a, policy, DAY) for a in (first, second))
    assert [f.usage.algorithm for f in one] == [f.usage.algorithm for f in two]
    assert {f.asset_id for f in one} == {first.id} and {f.asset_id for f in two} == {second.id}
    assert {f.location for f in one} == {first.location} != {f.location for f in two}
    assert all(f.usage.asset_id == f.asset_id and f.usage.location == f.location
               for f in one + two)
    assert list(usages_of(first)) == [f.usage for f in one]


def test_memo_follows_the_date_and_the_policy() -> None:
    asset = ConfigAsset(id="config:x:1:ssl_protocols", location=Location(path="x", line=1),
                        kind="nginx", directive="ssl_protocols", value="TLSv1 TLSv1.2",
                        details={"protocols": ["TLSv1.0", "TLSv1.2"], "cipher_suites": [
                            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]})
    templates = config_usages.usage_templates(asset)
    assert templates is not None
    statuses = set()
    for policy_id in (None, "bsi-tr-02102-2", None):
        policy = load_policy(policy_id)
        for day in (DAY, date(2036, 1, 1), DAY):
            got = judge_templates(templates, asset.id, asset.location, policy, day)
            assert got == _fresh(asset, policy_id, day, [])
            statuses.add((policy_id, day, tuple((f.rule, f.status) for f in got)))
    # TLS 1.2 is judged otherwise after BSI TR-02102-2's 2032 date: a memo that kept
    # the first date's verdict would fail above.
    bsi = {day: found for policy_id, day, found in statuses if policy_id == "bsi-tr-02102-2"}
    assert bsi[DAY] != bsi[date(2036, 1, 1)]


def test_inline_waivers_in_a_scan_apply_as_before(tmp_path: Path) -> None:
    (tmp_path / "site.conf").write_text(
        "server {\n"
        "    # cryptocheck: allow NHS-TLS-* until 2099-12-31 -- legacy terminals (CHG-1)\n"
        "    ssl_protocols TLSv1 TLSv1.2;\n"
        "    ssl_protocols TLSv1 TLSv1.2;\n"
        "}\n", "utf-8")
    report = scan("config", [str(tmp_path)], policy=None, as_of=DAY)
    assets = [a for a in report.assets if isinstance(a, ConfigAsset)]
    expected = [f for a in assets for f in _fresh(a, None, DAY, list(report.waivers))]
    assert list(report.findings) == expected
    waived_lines = {f.location.line for f in report.findings if f.waived}
    assert waived_lines == {3}
    assert any(not f.waived and f.status.value == "disallowed" and f.location.line == 4
               for f in report.findings)

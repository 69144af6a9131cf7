"""``cryptocheck policy list|show|validate|explain|diff``: everything printed about a rule is
generated from the rule record itself (no second, hand-kept table)."""

from __future__ import annotations

import json
import sys
import textwrap
from datetime import UTC, date, datetime

import click

from cryptocheck.cli.common import EXIT_OK, EXIT_USAGE, fail
from cryptocheck.policy import Policy, PolicyError, Rule, evaluate, load_policy, shipped_policy_ids
from cryptocheck.policy.rules import plain_value, rule_to_dict
from cryptocheck.policy.samples import probe_usages


def _load(name: str | None) -> Policy:
    try:
        return load_policy(name)
    except PolicyError as exc:
        fail(str(exc))


def _condition_text(rule: Rule) -> str:
    symbols = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "in": "in",
               "not_in": "not in", "multiple_of": "multiple of", "not_multiple_of": "not multiple of",
               "present": "present ="}
    parts = [f"{c.field} {symbols[c.op]} {plain_value(c.value)}" for c in rule.conditions]
    return " and ".join(parts) if parts else "(any)"


@click.group()
def policy() -> None:
    """List, show, validate, explain and compare policies."""


@policy.command("list")
def list_policies() -> None:
    """List the shipped policies (the default first)."""
    for policy_id in sorted(shipped_policy_ids(), key=lambda p: (p != "nhs-acagpg", p)):
        loaded = _load(policy_id)
        mark = " (default)" if policy_id == "nhs-acagpg" else ""
        click.echo(f"{loaded.id:<22} {loaded.version:<10} {len(loaded.rules):>3} rules  {loaded.title}{mark}")


@policy.command()
@click.argument("name", metavar="ID|FILE")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show(name: str, fmt: str) -> None:
    """Show a policy: identity, description and every rule."""
    loaded = _load(name)
    if fmt == "json":
        data = {"id": loaded.id, "title": loaded.title, "version": loaded.version,
                "description": loaded.description, "extends": list(loaded.extends),
                "sha256": loaded.sha256, "files": list(loaded.files),
                "changelog": [{k: plain_value(v) for k, v in c.items()} for c in loaded.changelog],
                "rules": [rule_to_dict(r) for r in loaded.rules]}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(f"{loaded.id} {loaded.version}: {loaded.title}")
    if loaded.extends:
        click.echo(f"extends: {', '.join(loaded.extends)}")
    click.echo(f"sha256: {loaded.sha256}")
    if loaded.description:
        click.echo("")
        click.echo(loaded.description)
    click.echo("")
    for rule in loaded.rules:
        dates = _dates(rule)
        click.echo(f"{rule.id:<28} {rule.status.value:<10} {rule.summary}{dates}")


def _dates(rule: Rule) -> str:
    if rule.effective_from and rule.effective_until:
        return f" [{rule.effective_from} to {rule.effective_until}]"
    if rule.effective_from:
        return f" [from {rule.effective_from}]"
    if rule.effective_until:
        return f" [until {rule.effective_until}]"
    return ""


@policy.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
def validate(files: tuple[str, ...]) -> None:
    """Check policy files; print file:line: error for each one that is refused."""
    failed = False
    for name in files:
        try:
            loaded = load_policy(name)
        except PolicyError as exc:
            click.echo(f"{exc}", err=True)
            failed = True
            continue
        click.echo(f"{name}: ok ({loaded.id} {loaded.version}, {len(loaded.rules)} rules)")
    sys.exit(EXIT_USAGE if failed else EXIT_OK)


@policy.command()
@click.argument("rule_id")
@click.option("--policy", "policy_name", metavar="ID|FILE", help="Look only in this policy.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain(rule_id: str, policy_name: str | None, fmt: str) -> None:
    """Explain one rule: what it matches, the status it gives, when, and why (citations)."""
    names = [policy_name] if policy_name else shipped_policy_ids()
    for name in names:
        rule = _load(name).rule(rule_id)
        if rule is None:
            continue
        if fmt == "json":
            click.echo(json.dumps(rule_to_dict(rule), indent=2, ensure_ascii=False))
            return
        click.echo(f"{rule.id} ({rule.policy_id}): {rule.summary}")
        click.echo(f"  status:    {rule.status.value} (severity {rule.severity})")
        click.echo(f"  applies:   {', '.join(rule.contexts)} where {_condition_text(rule)}")
        click.echo(f"  in force:  {_dates(rule).strip(' []') or 'always'}")
        if rule.rationale:
            text = textwrap.fill(" ".join(rule.rationale.split()), width=96,
                                 initial_indent="  rationale: ", subsequent_indent=" " * 13)
            click.echo(text)
        for citation in rule.citations:
            conf = f" [{citation.confirmation}]" if citation.confirmation else ""
            click.echo(f"  cites:     {citation}{conf}" + (f" <{citation.url}>" if citation.url else ""))
            if citation.note:
                click.echo(f"             {citation.note}")
        if rule.source_file:
            click.echo(f"  defined:   {rule.source_file}:{rule.source_line}")
        return
    fail(f"no rule {rule_id!r} in {', '.join(names)}")


@policy.command()
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
@click.option("--as-of", "as_of", metavar="DATE", help="Compare as of this date [default: today].")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def diff(first: str, second: str, as_of: str | None, fmt: str) -> None:
    """Which usages change status between policies A and B (over the catalogue's probes)."""
    day = date.fromisoformat(as_of) if as_of else datetime.now(UTC).date()
    a, b = _load(first), _load(second)
    changes = []
    for usage in probe_usages():
        va, vb = evaluate(usage, a, day), evaluate(usage, b, day)
        if va.status is not vb.status:
            changes.append((usage, va, vb))
    if fmt == "json":
        click.echo(json.dumps([
            {"context": u.context, "usage": u.describe(), "a": {"status": va.status.value, "rule": va.rule_id},
             "b": {"status": vb.status.value, "rule": vb.rule_id}} for u, va, vb in changes], indent=2))
        return
    click.echo(f"{a.id} {a.version} -> {b.id} {b.version}, as of {day}: {len(changes)} usage(s) change status")
    for usage, va, vb in changes:
        arrow = "stricter" if vb.status.rank > va.status.rank else "looser"
        click.echo(f"  {usage.context:<28} {usage.describe():<36} {va.status.value:>10} -> "
                   f"{vb.status.value:<10} ({arrow}; {va.rule_id} -> {vb.rule_id})")

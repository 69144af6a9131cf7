"""Loading policy files: TOML -> validated, complete rules, with ``extends`` resolved.

A policy with an error is refused as a whole with :class:`PolicyError`, which names the file,
the line and what is wrong: a half-loaded policy would judge silently wrong.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from cryptocheck import catalog
from cryptocheck.catalog.parsed import shipped as parse_shipped
from cryptocheck.model import SEVERITIES, Citation, Status
from cryptocheck.policy.rules import (
    DEFAULT_SEVERITY,
    MATCH_FIELDS,
    OPERATORS,
    Condition,
    Policy,
    Rule,
)

POLICY_KEYS = {"id", "title", "version", "description", "extends", "disable", "status_labels"}
RULE_KEYS = {"id", "summary", "status", "severity", "contexts", "match", "citation",
             "effective_from", "effective_until", "rationale"}
CITATION_KEYS = {"document", "section", "url", "confirmation", "note"}
TOP_KEYS = {"policy", "rule", "changelog"}
CONFIRMATIONS = {"C", "R", "U", "I"}
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
CONTEXT_RE = re.compile(r"^[a-z0-9*?.\-\[\]]+$")
_RULE_HEADER = re.compile(r"\s*\[\[\s*rule\s*\]\]")
DEFAULT_POLICY = "nhs-acagpg"


class PolicyError(ValueError):
    """A policy file that cannot be used: ``file:line: what is wrong``."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")


@dataclass
class _Source:
    """Text of a policy file with a map from rule index to its ``[[rule]]`` header line."""

    name: str
    text: str
    rule_lines: list[int] = field(init=False, repr=False)
    lines: list[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Split once: line_of is asked for every rule (its header line) and on every error.
        self.lines = self.text.splitlines()
        self.rule_lines = [number for number, line in enumerate(self.lines, 1)
                           if "[[" in line and _RULE_HEADER.match(line)]

    def line_of(self, rule_index: int | None, key: str | None = None) -> int | None:
        """Best line for an error: the key inside the n-th ``[[rule]]``, or the header."""
        lines = self.lines
        if rule_index is None:
            if key:
                for number, line in enumerate(lines, 1):
                    if re.match(rf"\s*{re.escape(key)}\s*=", line):
                        return number
            return None
        if rule_index >= len(self.rule_lines):
            return None
        start = self.rule_lines[rule_index]
        end = self.rule_lines[rule_index + 1] if rule_index + 1 < len(self.rule_lines) else len(lines) + 1
        if key:
            for number in range(start, end):
                if re.match(rf"\s*{re.escape(key)}\s*=", lines[number - 1]):
                    return number
        return start


def _policies_folder() -> Any:
    """The shipped policies: the installed data package ``cryptocheck.policies``, or the
    repository's ``policies/`` folder when running from a source checkout."""
    checkout = Path(__file__).resolve().parents[2] / "policies"
    if checkout.is_dir() and (checkout.parent / "cryptocheck").is_dir():
        return checkout
    return Path(__file__).resolve().parents[1] / "policies"  # the installed data package


def shipped_policy_ids() -> list[str]:
    """Ids of the policies that ship with cryptocheck, sorted."""
    folder = _policies_folder()
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _shipped_path(policy_id: str) -> Path | None:
    if not ID_RE.match(policy_id):
        return None
    item: Path = _policies_folder().joinpath(f"{policy_id}.toml")
    return item if item.is_file() else None


def _shipped_text(policy_id: str) -> tuple[str, str] | None:
    item = _shipped_path(policy_id)
    if item is None:
        return None
    return f"policies/{policy_id}.toml", item.read_text("utf-8")


def load_policy(name_or_path: str | Path | None = None) -> Policy:
    """Load a shipped policy by id (``nhs-acagpg``) or a policy file by path.

    Why: every run is judged by exactly one resolved policy; errors surface here, with file
    and line, before anything is scanned. ``None`` loads the default policy.

    >>> load_policy("nist-ir8547").id
    'nist-ir8547'
    """
    return _load(str(name_or_path or DEFAULT_POLICY), base=None, seen=())


def _read(name: str, base: Path | None) -> tuple[str, str, Path | None]:
    path = Path(name)
    candidates = [path] if path.is_absolute() or base is None else [base / path, path]
    if name.endswith(".toml") or "/" in name or path.exists():
        for candidate in candidates:
            if candidate.is_file():
                try:
                    return str(candidate), candidate.read_text("utf-8"), candidate.parent
                except (OSError, UnicodeDecodeError) as exc:
                    raise PolicyError(str(candidate), None, f"cannot read policy file: {exc}")
        raise PolicyError(name, None, "no such policy file")
    shipped = _shipped_text(name)
    if shipped is None:
        known = ", ".join(shipped_policy_ids())
        raise PolicyError(name, None, f"no shipped policy with this id (shipped: {known})")
    return shipped[0], shipped[1], None


def _load(name: str, base: Path | None, seen: tuple[str, ...]) -> Policy:
    file, text, folder = _read(name, base)
    if file in seen:
        raise PolicyError(file, None, f"extends cycle: {' -> '.join(seen + (file,))}")
    try:
        data = _parse(text, _shipped_path(name) if folder is None else None)
    except ValueError as exc:
        import tomllib  # loaded already when it raised

        if not isinstance(exc, tomllib.TOMLDecodeError):
            raise
        match = re.search(r"line (\d+)", str(exc))
        raise PolicyError(file, int(match.group(1)) if match else None, f"TOML syntax: {exc}")
    src = _Source(file, text)
    return _build(data, src, folder, seen + (file,))


def _parse(text: str, shipped: Path | None) -> dict[str, Any]:
    """The policy text parsed; a shipped policy (``shipped``: its file inside the package, never
    a file the user names) from its generated JSON form while that is current
    (catalog/parsed.py: tomllib costs ~5 ms for the default policy)."""
    if shipped is not None:
        return parse_shipped(shipped, text)
    import tomllib  # on use: a command that loads no policy file does not import it

    return tomllib.loads(text)


def _build(data: dict[str, Any], src: _Source, folder: Path | None,
           seen: tuple[str, ...]) -> Policy:
    for key in data:
        if key not in TOP_KEYS:
            raise PolicyError(src.name, src.line_of(None, key) or _table_line(src, key),
                              f"unknown top-level key {key!r} (expected: policy, rule, changelog)")
    head = data.get("policy")
    if not isinstance(head, dict):
        raise PolicyError(src.name, None, "missing [policy] table")
    for key in head:
        if key not in POLICY_KEYS:
            raise PolicyError(src.name, src.line_of(None, key), f"unknown [policy] key {key!r}")
    for key in ("id", "title", "version"):
        if not isinstance(head.get(key), str) or not head[key].strip():
            raise PolicyError(src.name, src.line_of(None, key), f"[policy] needs a string {key!r}")
    policy_id = head["id"]
    if not ID_RE.match(policy_id):
        raise PolicyError(src.name, src.line_of(None, "id"), f"bad policy id {policy_id!r}")

    parents: list[Policy] = []
    for parent_name in _str_list(head.get("extends", []), src, None, "extends"):
        try:
            parents.append(_load(parent_name, folder, seen))
        except PolicyError as exc:
            if exc.file == parent_name:
                raise PolicyError(src.name, src.line_of(None, "extends"),
                                  f"extends {parent_name!r}: {exc.message}") from None
            raise
    disabled = set(_str_list(head.get("disable", []), src, None, "disable"))

    inherited: list[Rule] = []
    for parent in parents:
        inherited.extend(parent.rules)
    known_ids = {r.id for r in inherited}
    unknown_disabled = disabled - known_ids
    if unknown_disabled:
        raise PolicyError(src.name, src.line_of(None, "disable"),
                          f"disable names rules no parent has: {', '.join(sorted(unknown_disabled))}")
    rules = [r for r in inherited if r.id not in disabled]

    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list):
        raise PolicyError(src.name, None, "'rule' must be an array of tables ([[rule]])")
    ids = {r.id for r in rules}
    for index, raw in enumerate(raw_rules):
        rule = _rule(raw, index, src, policy_id)
        if rule.id in ids or rule.id in disabled:
            raise PolicyError(src.name, src.line_of(index, "id"),
                              f"duplicate rule id {rule.id!r} (rule ids are never reused; "
                              "to change a parent's rule, disable it and add a new one)")
        ids.add(rule.id)
        rules.append(rule)
    if not rules:
        raise PolicyError(src.name, None, "policy has no rules")

    changelog = data.get("changelog", [])
    if not isinstance(changelog, list) or not all(isinstance(c, dict) for c in changelog):
        raise PolicyError(src.name, _table_line(src, "changelog"), "'changelog' must be [[changelog]] tables")
    labels = head.get("status_labels", {})
    if not isinstance(labels, dict):
        raise PolicyError(src.name, src.line_of(None, "status_labels"), "status_labels must be a table")

    digest = hashlib.sha256()
    files: list[str] = []
    for parent in parents:
        files.extend(f for f in parent.files if f not in files)
    files.append(src.name)
    digest.update(src.text.encode())
    for parent in parents:
        digest.update(parent.sha256.encode())
    return Policy(
        id=policy_id,
        title=head["title"],
        version=head["version"],
        description=str(head.get("description", "")).strip(),
        rules=tuple(rules),
        files=tuple(files),
        sha256=digest.hexdigest(),
        extends=tuple(p.id for p in parents),
        changelog=tuple(changelog),
        status_labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
    )


def _table_line(src: _Source, key: str) -> int | None:
    for number, line in enumerate(src.text.splitlines(), 1):
        if re.match(rf"\s*\[+\s*{re.escape(key)}\s*\]+", line):
            return number
    return None


def _str_list(value: Any, src: _Source, index: int | None, key: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(src.name, src.line_of(index, key), f"{key!r} must be a list of strings")
    return value


def _date(value: Any, src: _Source, index: int, key: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise PolicyError(src.name, src.line_of(index, key), f"{key!r} must be a TOML date (YYYY-MM-DD)")


def _rule(raw: Any, index: int, src: _Source, policy_id: str) -> Rule:
    if not isinstance(raw, dict):
        raise PolicyError(src.name, src.line_of(index), "each [[rule]] must be a table")
    line = src.line_of(index)
    for key in raw:
        if key not in RULE_KEYS:
            raise PolicyError(src.name, src.line_of(index, key) or line, f"unknown rule key {key!r}")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not ID_RE.match(rule_id):
        raise PolicyError(src.name, src.line_of(index, "id") or line, "rule needs an 'id' (letters, digits, . _ -)")
    where = f"rule {rule_id}: "
    summary = raw.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise PolicyError(src.name, line, where + "needs a one-line 'summary'")
    try:
        status = Status.parse(str(raw.get("status", "")))
    except ValueError as exc:
        raise PolicyError(src.name, src.line_of(index, "status") or line, where + str(exc)) from None
    if status is Status.UNKNOWN:
        raise PolicyError(src.name, src.line_of(index, "status"), where +
                          "'unknown' is not a status a rule gives; it is what no rule matching means")
    severity = raw.get("severity", DEFAULT_SEVERITY[status])
    if severity not in SEVERITIES:
        raise PolicyError(src.name, src.line_of(index, "severity") or line,
                          where + f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    contexts = _str_list(raw.get("contexts", []), src, index, "contexts")
    if not contexts:
        raise PolicyError(src.name, line, where + "needs 'contexts' (what usages it applies to)")
    for context in contexts:
        if not CONTEXT_RE.match(context):
            raise PolicyError(src.name, src.line_of(index, "contexts"), where + f"bad context {context!r}")
    conditions = _conditions(raw.get("match", {}), src, index, where)
    citations = _citations(raw.get("citation"), src, index, where)
    start = _date(raw.get("effective_from"), src, index, "effective_from")
    until = _date(raw.get("effective_until"), src, index, "effective_until")
    if start and until and until <= start:
        raise PolicyError(src.name, src.line_of(index, "effective_until"), where + "effective_until is not after effective_from")
    rationale = raw.get("rationale")
    if rationale is not None and not isinstance(rationale, str):
        raise PolicyError(src.name, src.line_of(index, "rationale"), where + "rationale must be a string")
    return Rule(rule_id, summary.strip(), status, severity, tuple(contexts), conditions, citations,
                start, until, rationale.strip() if rationale else None, policy_id, src.name, line)


# Match fields whose values are catalogue names (checked against catalog.known_names()).
NAMED_FIELDS = ("algorithm", "curve", "hash")


def _match_line(src: _Source, index: int, key: str) -> int | None:
    """The line of match field ``key`` of rule ``index``, else the rule's header line."""
    return src.line_of(index, key) or src.line_of(index)


def _conditions(match: Any, src: _Source, index: int, where: str) -> tuple[Condition, ...]:
    if not isinstance(match, dict):
        raise PolicyError(src.name, src.line_of(index, "match"), where + "'match' must be a table")
    known = catalog.known_names()
    out: list[Condition] = []
    for name in sorted(match):
        value = match[name]
        # Looked up only for an error: scanning the rule's lines for every field of every
        # rule cost more than the rest of loading a policy.
        line = partial(_match_line, src, index, name)
        if name not in MATCH_FIELDS:
            raise PolicyError(src.name, line(), where + f"cannot match on {name!r} (fields: {', '.join(MATCH_FIELDS)})")
        if isinstance(value, dict):
            tests = list(value.items())
        elif isinstance(value, list):
            tests = [("in", value)]
        else:
            tests = [("eq", value)]
        for op, operand in tests:
            if op not in OPERATORS:
                raise PolicyError(src.name, line(), where + f"unknown operator {op!r} for {name!r} (operators: {', '.join(OPERATORS)})")
            if op in ("in", "not_in") and not isinstance(operand, list):
                raise PolicyError(src.name, line(), where + f"{name}.{op} needs a list")
            if op in ("multiple_of", "not_multiple_of") and (not isinstance(operand, int) or operand <= 0):
                raise PolicyError(src.name, line(), where + f"{name}.{op} needs a positive integer")
            if name in NAMED_FIELDS:
                names = operand if isinstance(operand, list) else [operand]
                for item in names:
                    if op != "present" and item not in known[name] and item != "unknown" and item != "none":
                        raise PolicyError(src.name, line(), where + f"{name} {item!r} is not in the algorithm catalogue")
            out.append(Condition(name, op, operand))
    return tuple(out)


def _citations(raw: Any, src: _Source, index: int, where: str) -> tuple[Citation, ...]:
    line = src.line_of(index)
    if raw is None:
        raise PolicyError(src.name, line, where + "needs at least one [[rule.citation]]")
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise PolicyError(src.name, line, where + "needs at least one [[rule.citation]]")
    out = []
    for item in raw:
        if not isinstance(item, dict):
            raise PolicyError(src.name, line, where + "each citation must be a table")
        for key in item:
            if key not in CITATION_KEYS:
                raise PolicyError(src.name, src.line_of(index, key) or line, where + f"unknown citation key {key!r}")
        document = item.get("document")
        if not isinstance(document, str) or not document.strip():
            raise PolicyError(src.name, src.line_of(index, "document") or line, where + "citation needs a 'document'")
        if not item.get("section") and not item.get("url"):
            raise PolicyError(src.name, line, where + f"citation of {document!r} needs a 'section' or a 'url'")
        confirmation = item.get("confirmation")
        if confirmation is not None and confirmation not in CONFIRMATIONS:
            raise PolicyError(src.name, src.line_of(index, "confirmation") or line,
                              where + "confirmation must be one of C, R, U, I (see shared reference)")
        out.append(Citation(document.strip(), item.get("section"), item.get("url"), confirmation, item.get("note")))
    return tuple(out)

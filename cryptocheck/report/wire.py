"""The JSON wire format: plain dicts built from the internal records of ``cryptocheck.model``.

Scripts, the service and later runs read this format, so it is kept apart from the records
and changes only with ``SCHEMA_VERSION``. It is described by
``cryptocheck/schema/report.schema.json``. Every function here is pure and deterministic:
keys come out in a fixed order (attribute keys sorted), every documented key is always
present (``null`` when unknown, never left out), times are ISO 8601 UTC with ``Z`` and
dates are ``YYYY-MM-DD``. Nothing is decided here: statuses and counts come from the records.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TextIO

from cryptocheck.model import (
    Asset,
    CertificateAsset,
    Chain,
    Citation,
    ConfigAsset,
    CryptoUsage,
    EndpointAsset,
    Finding,
    KeyAsset,
    Location,
    PolicyInfo,
    Report,
    RunError,
    Status,
    Summary,
    Waiver,
)
from cryptocheck.schema import (  # noqa: F401 - re-exported: the schema lives beside its file
    jsonl_record_schema,
    report_schema,
)

TOOL_NAME = "cryptocheck"
SCHEMA_VERSION = "1.0"
SCHEMA_ID = f"https://cryptocheck.dev/schema/report/{SCHEMA_VERSION}"

# Best to worst, the order every ``findings_by_status`` object is written in.
STATUS_ORDER: tuple[str, ...] = tuple(s.value for s in sorted(Status, key=lambda s: s.rank))

JSONDict = dict[str, Any]


# --- scalars -----------------------------------------------------------------------------

def utc_timestamp(moment: datetime) -> str:
    """``moment`` as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC, to the second.

    A naive datetime is taken to be UTC already (that is what X.509 times are, and what older
    ``cryptography`` APIs return). Sub-second parts are dropped so that certificate times and
    run times have one shape that scripts can compare as strings.

    >>> utc_timestamp(datetime(2030, 1, 2, 3, 4, 5, 678))
    '2030-01-02T03:04:05Z'
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat() + "Z"


def iso_date(day: date) -> str:
    """``day`` as ``YYYY-MM-DD`` (a datetime is first taken to UTC)."""
    if isinstance(day, datetime):
        return utc_timestamp(day)[:10]
    return day.isoformat()


def clean_text(text: str | None) -> str | None:
    """``text`` made safe to encode as UTF-8.

    Names read from certificates and files may carry lone surrogates (bytes decoded with
    ``surrogateescape``); those cannot be written as UTF-8, so they are shown as ``\\udcxx``
    rather than failing the whole report or being silently dropped.
    """
    if text is None or text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def status_value(status: Status | str | None) -> str | None:
    """The wire name of a status (``Status`` member or its name); ValueError if not a status."""
    if status is None:
        return None
    return Status(status).value


def _attribute_value(name: str, value: object) -> bool | int | float | str | None:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, datetime):
        return utc_timestamp(value)
    if isinstance(value, date):
        return iso_date(value)
    raise TypeError(f"usage attribute {name!r} has a value of unsupported type {type(value).__name__}")


# --- records -----------------------------------------------------------------------------

def location_to_dict(location: Location) -> JSONDict:
    """A :class:`Location` with all seven keys, ``null`` where unknown."""
    return {
        "path": clean_text(location.path),
        "index": location.index,
        "line": location.line,
        "column": location.column,
        "offset": location.offset,
        "host": clean_text(location.host),
        "port": location.port,
    }


def citation_to_dict(citation: Citation) -> JSONDict:
    """A :class:`Citation`: document, section, url, confirmation, note."""
    return {
        "document": citation.document,
        "section": citation.section,
        "url": citation.url,
        "confirmation": citation.confirmation,
        "note": citation.note,
    }


def usage_to_dict(usage: CryptoUsage) -> JSONDict:
    """A :class:`CryptoUsage` without its asset id and location (the finding carries those).

    ``attributes`` becomes an object with its keys sorted.
    """
    return {
        "context": usage.context,
        "algorithm": usage.algorithm,
        "key_size": usage.key_size,
        "curve": usage.curve,
        "hash": usage.hash,
        "strength": usage.strength,
        "quantum_vulnerable": usage.quantum_vulnerable,
        "oid": usage.oid,
        "attributes": {
            name: _attribute_value(name, value) for name, value in sorted(usage.attributes)
        },
    }


def waiver_ref_to_dict(waiver: Waiver) -> JSONDict:
    """The part of a :class:`Waiver` a finding repeats: id, owner, reason, expires."""
    return {
        "id": waiver.id,
        "owner": clean_text(waiver.owner),
        "reason": clean_text(waiver.reason),
        "expires": iso_date(waiver.expires),
    }


def waiver_to_dict(waiver: Waiver) -> JSONDict:
    """A whole :class:`Waiver`: who, why, until when, and what it matches."""
    return waiver_ref_to_dict(waiver) | {
        "rule": waiver.rule,
        "asset": waiver.asset,
        "sha256": waiver.sha256,
        "path": clean_text(waiver.path),
        "subject": clean_text(waiver.subject),
    }


def asset_to_dict(asset: Asset) -> JSONDict:
    """A certificate or key as a flat object; scripts read these keys, so they are stable.

    ``path`` and ``index`` repeat the location's for convenience; ``location`` keeps the rest
    (line of a PEM block, host and port of an endpoint).

    Example: ``asset_to_dict(key_asset)["type"]`` is ``"private-key"`` for a private key.
    """
    if isinstance(asset, CertificateAsset):
        return {
            "type": "certificate",
            "id": asset.id,
            "path": clean_text(asset.location.path),
            "index": asset.location.index,
            "sha256": asset.sha256,
            "subject": clean_text(asset.subject),
            "issuer": clean_text(asset.issuer),
            "serial": asset.serial,
            "key_algorithm": asset.key_algorithm,
            "key_size": asset.key_size,
            "curve": asset.curve,
            "key_oid": asset.key_oid,
            "signature_algorithm": asset.signature_algorithm,
            "signature_scheme": asset.signature_scheme,
            "signature_hash": asset.signature_hash,
            "signature_oid": asset.signature_oid,
            "not_before": utc_timestamp(asset.not_before),
            "not_after": utc_timestamp(asset.not_after),
            "is_ca": asset.is_ca,
            "self_signed": asset.self_signed,
            "spki_sha256": asset.spki_sha256,
            "subject_key_id": asset.subject_key_id,
            "authority_key_id": asset.authority_key_id,
            "source_format": asset.source_format,
            "location": location_to_dict(asset.location),
        }
    if isinstance(asset, KeyAsset):
        return {
            "type": asset.type,
            "id": asset.id,
            "path": clean_text(asset.location.path),
            "index": asset.location.index,
            "key_algorithm": asset.key_algorithm,
            "key_size": asset.key_size,
            "curve": asset.curve,
            "key_oid": asset.key_oid,
            "spki_sha256": asset.spki_sha256,
            "format": asset.format,
            "encrypted": asset.encrypted,
            "protection": asset.protection,
            "comment": clean_text(asset.comment),
            "location": location_to_dict(asset.location),
        }
    if isinstance(asset, EndpointAsset):
        return {
            "type": asset.type,
            "id": asset.id,
            "host": clean_text(asset.location.host),
            "port": asset.location.port,
            "address": asset.address,
            "service": asset.service,
            **_json_ready(asset.details),
            "location": location_to_dict(asset.location),
        }
    if isinstance(asset, ConfigAsset):
        return {
            "type": asset.type,
            "id": asset.id,
            "path": clean_text(asset.location.path),
            "line": asset.location.line,
            "column": asset.location.column,
            "kind": asset.kind,
            "directive": clean_text(asset.directive),
            "value": clean_text(asset.value),
            "scope": clean_text(asset.scope),
            "details": _json_ready(asset.details),
            "location": location_to_dict(asset.location),
        }
    raise TypeError(f"not an asset: {type(asset).__name__}")


# Keys of an endpoint's details that would collide with the fixed keys of its record.
_RESERVED = frozenset({"type", "id", "host", "port", "address", "service", "location", "record",
                       "findings"})


def _json_ready(details: Mapping[str, Any]) -> JSONDict:
    """A copy of a source's ``details`` with keys sorted and no reserved key overwritten."""
    clash = _RESERVED.intersection(details)
    if clash:
        raise ValueError(f"details may not use the reserved keys {sorted(clash)}")
    return {key: details[key] for key in sorted(details)}


def finding_to_dict(finding: Finding) -> JSONDict:
    """A :class:`Finding`: the rule's verdict on one usage, with citation, location, waiver.

    ``summary`` (the deciding rule's one-line summary) follows ``message`` whenever the finding
    has one, as every finding the engine makes does; a finding loaded from a report written
    before findings carried it has none, and writing it back leaves the key out, so that the
    round trip stays byte for byte.
    """
    record: JSONDict = {
        "asset": finding.asset_id,
        "rule": finding.rule,
        "status": status_value(finding.status),
        "severity": finding.severity,
        "message": clean_text(finding.message),
    }
    if finding.summary is not None:
        record["summary"] = clean_text(finding.summary)
    record.update({
        "citation": [citation_to_dict(c) for c in finding.citations],
        "location": location_to_dict(finding.location),
        "usage": usage_to_dict(finding.usage),
        "waived": finding.waiver is not None,
        "waiver": waiver_ref_to_dict(finding.waiver) if finding.waiver is not None else None,
        "waiver_note": clean_text(finding.waiver_note),
    })
    return record


def error_to_dict(error: RunError) -> JSONDict:
    """A :class:`RunError`: the input that could not be read, a reason code and a message."""
    return {
        "path": clean_text(error.location.path),
        "index": error.location.index,
        "reason": error.reason,
        "message": clean_text(error.message),
        "location": location_to_dict(error.location),
    }


def chain_to_dict(chain: Chain) -> JSONDict:
    """A :class:`Chain`: certificate ids leaf first, whether complete, and its weakest link."""
    return {
        "id": chain.id,
        "certificates": list(chain.certificates),
        "complete": chain.complete,
        "weakest_status": status_value(chain.weakest_status),
        "weakest_asset": chain.weakest_asset,
        "weakest_rule": chain.weakest_rule,
    }


def findings_by_status(pairs: Iterable[tuple[str | Status, int]]) -> JSONDict:
    """All five statuses, best to worst, with 0 for any the pairs leave out.

    A status named twice is summed; a name that is not a status is a ValueError (a runner bug
    that should not be hidden in a report).
    """
    counts = dict.fromkeys(STATUS_ORDER, 0)
    for status, count in pairs:
        counts[Status(status).value] += count
    return counts


def summary_to_dict(summary: Summary) -> JSONDict:
    """A :class:`Summary` with ``findings_by_status`` as an object of all five statuses."""
    return {
        "inputs": summary.inputs,
        "assets": summary.assets,
        "errors": summary.errors,
        "findings_by_status": findings_by_status(summary.findings_by_status),
        "waived": summary.waived,
        "files_read": summary.files_read,
        "files_skipped": summary.files_skipped,
        "worst_status": status_value(summary.worst_status),
    }


def policy_to_dict(policy: PolicyInfo, as_of: date) -> JSONDict:
    """Which policy judged the run, its digest, and the date it was applied as of."""
    return {
        "id": policy.id,
        "version": policy.version,
        "title": policy.title,
        "sha256": policy.sha256,
        "as_of": iso_date(as_of),
        "files": [clean_text(f) for f in policy.files],
    }


def tool_to_dict(tool_version: str) -> JSONDict:
    """The producing tool: name and version."""
    return {"name": TOOL_NAME, "version": tool_version}


def require_summary(report: Report) -> Summary:
    """The report's summary; ValueError if the runner left it out.

    Counts such as ``files_read`` cannot be rebuilt from the records, and a reporter must not
    guess them, so a report without a summary is a caller mistake.
    """
    if report.summary is None:
        raise ValueError("report has no summary: the runner must build it before reporting")
    return report.summary


def run_metadata(report: Report) -> JSONDict:
    """What a report says about its run (schema, tool, command, policy, times, summary), in
    the documented key order: the head of the JSON report and of the JSONL summary line."""
    return {
        "schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "tool": tool_to_dict(report.tool_version),
        "command": report.command,
        "targets": [clean_text(t) for t in report.targets],
        "policy": policy_to_dict(report.policy, report.as_of),
        "started": utc_timestamp(report.started),
        "finished": utc_timestamp(report.finished),
        "summary": summary_to_dict(require_summary(report)),
    }


def report_to_dict(report: Report) -> JSONDict:
    """The whole report, in the documented key order.

    Deterministic: the same records give the same dict (and, through :func:`dumps_report`, the
    same bytes); only ``started`` and ``finished`` differ between runs.
    """
    return run_metadata(report) | {
        "assets": [asset_to_dict(a) for a in report.assets],
        "findings": [finding_to_dict(f) for f in report.findings],
        "chains": [chain_to_dict(c) for c in report.chains],
        "waivers": [waiver_to_dict(w) for w in report.waivers],
        "errors": [error_to_dict(e) for e in report.errors],
    }


# --- serialisation -----------------------------------------------------------------------

# One fixed form: key order is the order the dicts above are built in. The top level is
# indented, and each record of a list of records (assets, findings, chains, waivers, errors)
# is one compact line: as easy to read and to diff, and written by the C encoder (json's
# indenting encoder is pure Python, about ten times slower on large reports).
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
_INDENTED: dict[str, Any] = {"indent": 2, "sort_keys": False, "ensure_ascii": False}


def _write_report(document: Mapping[str, Any], write: Callable[[str], object]) -> None:
    write("{")
    for number, (key, value) in enumerate(document.items()):
        write(",\n  " if number else "\n  ")
        write(_COMPACT(key) + ": ")
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            write("[")
            for position, item in enumerate(value):  # one record at a time: no second copy
                write(",\n    " if position else "\n    ")
                write(_COMPACT(item))
            write("\n  ]")
        else:
            write(json.dumps(value, **_INDENTED).replace("\n", "\n  "))
    write("\n}\n")


def dumps_report(report: Report) -> str:
    """The report as JSON text ending in a newline (the ``json`` format): the top level
    indented, one line per record."""
    parts: list[str] = []
    _write_report(report_to_dict(report), parts.append)
    return "".join(parts)


def dump_report(report: Report, stream: TextIO) -> None:
    """Write :func:`dumps_report` to ``stream`` in pieces."""
    _write_report(report_to_dict(report), stream.write)


def dumps_line(record: Mapping[str, Any]) -> str:
    """One JSON Lines record: compact, on one line, without the newline."""
    return json.dumps(record, sort_keys=False, ensure_ascii=False, separators=(",", ":"))

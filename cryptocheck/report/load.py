"""A saved JSON report back to the records of :mod:`cryptocheck.model`.

Why: every format renders from records, so a report saved as JSON (``--format json``) can be
rendered again later in any format (``cryptocheck report r.json --format html``), diffed
against another run, or served, without scanning again. The mapping is the inverse of
:mod:`cryptocheck.report.wire`: loading a report and writing it again gives the same bytes.

A document that is not a cryptocheck report (bad JSON, another schema, a missing key) is a
:class:`ReportLoadError` naming what is wrong; nothing is guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

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
from cryptocheck.report.wire import SCHEMA_VERSION

__all__ = ["ReportLoadError", "load_report", "report_from_dict"]

JSONDict = Mapping[str, Any]

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Keys of an endpoint record that are the record's own; every other key came from details.
_ENDPOINT_KEYS = frozenset({"type", "id", "host", "port", "address", "service", "location"})


class ReportLoadError(ValueError):
    """The document is not a cryptocheck JSON report this version can read."""


def load_report(path_or_text: str | Path) -> Report:
    """Read a JSON report (a file path, or the JSON text itself) into a :class:`Report`.

    Why: ``cryptocheck report`` and ``serve`` render stored reports through the same reporters
    a scan uses. A ``str`` that starts with ``{`` (after blanks) is taken as the JSON text,
    anything else as a path.

    Example: ``load_report("scan.json").summary.worst_status``.
    """
    if isinstance(path_or_text, str) and path_or_text.lstrip().startswith("{"):
        text, where = path_or_text, "report"
    else:
        where = str(path_or_text)
        try:
            text = Path(path_or_text).read_text(encoding="utf-8")
        except OSError as exc:
            raise ReportLoadError(f"{where}: cannot read: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ReportLoadError(f"{where}: not UTF-8 text") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportLoadError(f"{where}: not JSON: {exc.msg} at line {exc.lineno}") from None
    try:
        return report_from_dict(document)
    except ReportLoadError as exc:
        raise ReportLoadError(f"{where}: {exc}") from None


def report_from_dict(document: Any) -> Report:
    """A parsed JSON report (``dict``) as a :class:`Report`; ReportLoadError if it is not one."""
    if not isinstance(document, dict):
        raise ReportLoadError("not a cryptocheck report (expected a JSON object)")
    version = document.get("schema_version")
    if version is None or "tool" not in document:
        raise ReportLoadError("not a cryptocheck report (no schema_version)")
    if str(version).split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise ReportLoadError(f"report schema {version} is not readable by this version "
                              f"(reads {SCHEMA_VERSION})")
    try:
        return _report(document)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ReportLoadError):
            raise
        detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ReportLoadError(f"malformed report: {detail}") from None


def _report(doc: JSONDict) -> Report:
    policy = doc["policy"]
    return Report(
        tool_version=str(doc["tool"]["version"]),
        command=str(doc["command"]),
        targets=tuple(doc["targets"]),
        policy=PolicyInfo(id=policy["id"], version=policy["version"], title=policy["title"],
                          sha256=policy["sha256"], files=tuple(policy.get("files") or ())),
        as_of=date.fromisoformat(policy["as_of"]),
        started=parse_timestamp(doc["started"]),
        finished=parse_timestamp(doc["finished"]),
        assets=tuple(asset_from_dict(a) for a in doc["assets"]),
        findings=tuple(finding_from_dict(f) for f in doc["findings"]),
        errors=tuple(_error(e) for e in doc["errors"]),
        chains=tuple(_chain(c) for c in doc.get("chains") or ()),
        summary=_summary(doc["summary"]),
        waivers=tuple(_waiver(w) for w in doc.get("waivers") or ()),
    )


def parse_timestamp(text: str) -> datetime:
    """``YYYY-MM-DDTHH:MM:SSZ`` as an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


def _location(doc: JSONDict) -> Location:
    return Location(path=doc.get("path"), index=doc.get("index"), line=doc.get("line"),
                    column=doc.get("column"), offset=doc.get("offset"), host=doc.get("host"),
                    port=doc.get("port"))


def asset_from_dict(doc: JSONDict) -> Asset:
    """One asset record of the wire format as its model record (every asset type)."""
    kind = doc["type"]
    location = _location(doc["location"])
    if kind == "certificate":
        return CertificateAsset(
            id=doc["id"], location=location, sha256=doc["sha256"], subject=doc["subject"],
            issuer=doc["issuer"], serial=doc["serial"], key_algorithm=doc["key_algorithm"],
            key_size=doc["key_size"], curve=doc["curve"], key_oid=doc["key_oid"],
            signature_algorithm=doc["signature_algorithm"],
            signature_scheme=doc["signature_scheme"], signature_hash=doc["signature_hash"],
            signature_oid=doc["signature_oid"], not_before=parse_timestamp(doc["not_before"]),
            not_after=parse_timestamp(doc["not_after"]), is_ca=doc["is_ca"],
            self_signed=doc["self_signed"], spki_sha256=doc["spki_sha256"],
            subject_key_id=doc.get("subject_key_id"),
            authority_key_id=doc.get("authority_key_id"),
            source_format=doc.get("source_format", "PEM"),
        )
    if kind in ("public-key", "private-key"):
        return KeyAsset(
            id=doc["id"], type=kind, location=location, key_algorithm=doc["key_algorithm"],
            key_size=doc["key_size"], curve=doc["curve"], key_oid=doc.get("key_oid"),
            spki_sha256=doc.get("spki_sha256"), format=doc["format"],
            encrypted=doc.get("encrypted"), protection=doc.get("protection"),
            comment=doc.get("comment"),
        )
    if kind in ("tls-endpoint", "ssh-endpoint"):
        details = {key: value for key, value in doc.items() if key not in _ENDPOINT_KEYS}
        return EndpointAsset(id=doc["id"], type=kind, location=location,
                             address=doc.get("address"), service=doc["service"], details=details)
    if kind == "config-setting":
        return ConfigAsset(id=doc["id"], location=location, kind=doc["kind"],
                           directive=doc["directive"], value=doc["value"],
                           scope=doc.get("scope"), details=dict(doc.get("details") or {}))
    raise ReportLoadError(f"asset {doc.get('id')!r} has an unknown type {kind!r}")


def _attribute(value: Any) -> bool | int | str | date | datetime | None:
    # The wire format writes dates and times as strings; read them back as dates and times
    # so that reporters that compute with them (expiry charts) see the same values a scan
    # gave. Written again, they give the same strings.
    if isinstance(value, str):
        if _TIMESTAMP.match(value):
            return parse_timestamp(value)
        if _DATE.match(value):
            return date.fromisoformat(value)
        return value
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        # The model holds no floats, but a float written by hand is kept as text, not lost.
        return json.dumps(value)
    raise ReportLoadError(f"usage attribute of unsupported type {type(value).__name__}")


def _citation(doc: JSONDict) -> Citation:
    return Citation(document=doc["document"], section=doc.get("section"), url=doc.get("url"),
                    confirmation=doc.get("confirmation"), note=doc.get("note"))


def _waiver_ref(doc: JSONDict) -> Waiver:
    return Waiver(id=doc["id"], owner=doc["owner"], reason=doc["reason"],
                  expires=date.fromisoformat(doc["expires"]))


def _waiver(doc: JSONDict) -> Waiver:
    return Waiver(id=doc["id"], owner=doc["owner"], reason=doc["reason"],
                  expires=date.fromisoformat(doc["expires"]), rule=doc.get("rule"),
                  asset=doc.get("asset"), sha256=doc.get("sha256"), path=doc.get("path"),
                  subject=doc.get("subject"))


def finding_from_dict(doc: JSONDict) -> Finding:
    """One finding record of the wire format as a :class:`Finding` (with its usage)."""
    location = _location(doc["location"])
    usage_doc = doc["usage"]
    usage = CryptoUsage(
        asset_id=doc["asset"], context=usage_doc["context"], algorithm=usage_doc["algorithm"],
        location=location, key_size=usage_doc.get("key_size"), curve=usage_doc.get("curve"),
        hash=usage_doc.get("hash"), strength=usage_doc.get("strength"),
        quantum_vulnerable=usage_doc.get("quantum_vulnerable"), oid=usage_doc.get("oid"),
        attributes=tuple((name, _attribute(value))
                         for name, value in (usage_doc.get("attributes") or {}).items()),
    )
    waiver = doc.get("waiver")
    return Finding(
        asset_id=doc["asset"], rule=doc["rule"], status=Status(doc["status"]),
        severity=doc["severity"], message=doc["message"],
        citations=tuple(_citation(c) for c in doc.get("citation") or ()), location=location,
        usage=usage, waiver=_waiver_ref(waiver) if waiver else None,
        waiver_note=doc.get("waiver_note"),
    )


def _error(doc: JSONDict) -> RunError:
    return RunError(location=_location(doc["location"]), reason=doc["reason"],
                    message=doc["message"])


def _chain(doc: JSONDict) -> Chain:
    return Chain(id=doc["id"], certificates=tuple(doc["certificates"]), complete=doc["complete"],
                 weakest_status=Status(doc["weakest_status"]),
                 weakest_asset=doc["weakest_asset"], weakest_rule=doc["weakest_rule"])


def _summary(doc: JSONDict) -> Summary:
    worst = doc.get("worst_status")
    return Summary(
        inputs=doc["inputs"], assets=doc["assets"], errors=doc["errors"],
        findings_by_status=tuple((str(k), int(v)) for k, v in doc["findings_by_status"].items()),
        waived=doc["waived"], files_read=doc["files_read"],
        files_skipped=doc["files_skipped"],
        worst_status=Status(worst) if worst else None,
    )

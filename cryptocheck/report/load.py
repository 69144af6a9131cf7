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
    """A parsed JSON report (``dict``) as a :class:`Report`; ReportLoadError if it is not one.

    Every value is checked for the type the schema gives it, so a report that loads renders
    in every format; the error names the first value that is wrong (``assets[3].key_size``).
    """
    if not isinstance(document, dict):
        raise ReportLoadError("not a cryptocheck report (expected a JSON object)")
    version = document.get("schema_version")
    if version is None or "tool" not in document:
        raise ReportLoadError("not a cryptocheck report (no schema_version)")
    if str(version).split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise ReportLoadError(f"report schema {version} is not readable by this version "
                              f"(reads {SCHEMA_VERSION})")
    return _report(_Fields(document, ""))


class _Fields:
    """Typed access to one JSON object of the report; a wrong or missing value is a
    ReportLoadError naming where it is."""

    def __init__(self, doc: Any, where: str) -> None:
        if not isinstance(doc, dict):
            raise ReportLoadError(f"malformed report: {where or 'report'}: expected an object")
        self.doc: dict[str, Any] = doc
        self.where = where

    def _path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def _fail(self, key: str, expected: str) -> ReportLoadError:
        if key not in self.doc:
            return ReportLoadError(f"malformed report: missing key {self._path(key)!r}")
        return ReportLoadError(f"malformed report: {self._path(key)}: expected {expected}")

    def raw(self, key: str, default: Any = None) -> Any:
        return self.doc.get(key, default)

    def s(self, key: str) -> str:
        value = self.doc.get(key)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def os(self, key: str) -> str | None:
        value = self.doc.get(key)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "a string or null")
        return value

    def i(self, key: str) -> int:
        value = self.doc.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._fail(key, "an integer")
        return value

    def oi(self, key: str) -> int | None:
        value = self.doc.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise self._fail(key, "an integer or null")
        return value

    def b(self, key: str) -> bool:
        value = self.doc.get(key)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def ob(self, key: str) -> bool | None:
        value = self.doc.get(key)
        if value is not None and not isinstance(value, bool):
            raise self._fail(key, "true, false or null")
        return value

    def obj(self, key: str) -> _Fields:
        if key not in self.doc:
            raise self._fail(key, "an object")
        return _Fields(self.doc[key], self._path(key))

    def objects(self, key: str, required: bool = True) -> list[_Fields]:
        value = self.doc.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            raise self._fail(key, "a list")
        return [_Fields(item, f"{self._path(key)}[{n}]") for n, item in enumerate(value)]

    def strings(self, key: str, required: bool = True) -> tuple[str, ...]:
        value = self.doc.get(key)
        if value is None and not required:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "a list of strings")
        return tuple(value)

    def day(self, key: str) -> date:
        text = self.s(key)
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self._fail(key, "a date YYYY-MM-DD") from None

    def moment(self, key: str) -> datetime:
        text = self.s(key)
        try:
            return parse_timestamp(text)
        except ValueError:
            raise self._fail(key, "a time YYYY-MM-DDTHH:MM:SSZ") from None

    def status(self, key: str) -> Status:
        try:
            return Status(self.s(key))
        except ValueError:
            raise self._fail(key, "a status") from None


def _report(doc: _Fields) -> Report:
    policy = doc.obj("policy")
    return Report(
        tool_version=doc.obj("tool").s("version"),
        command=doc.s("command"),
        targets=doc.strings("targets"),
        policy=PolicyInfo(id=policy.s("id"), version=policy.s("version"),
                          title=policy.s("title"), sha256=policy.s("sha256"),
                          files=policy.strings("files", required=False)),
        as_of=policy.day("as_of"),
        started=doc.moment("started"),
        finished=doc.moment("finished"),
        assets=tuple(_asset(a) for a in doc.objects("assets")),
        findings=tuple(_finding(f) for f in doc.objects("findings")),
        errors=tuple(_error(e) for e in doc.objects("errors")),
        chains=tuple(_chain(c) for c in doc.objects("chains", required=False)),
        summary=_summary(doc.obj("summary")),
        waivers=tuple(_waiver(w) for w in doc.objects("waivers", required=False)),
    )


def parse_timestamp(text: str) -> datetime:
    """``YYYY-MM-DDTHH:MM:SSZ`` as an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


def _location(doc: _Fields) -> Location:
    return Location(path=doc.os("path"), index=doc.oi("index"), line=doc.oi("line"),
                    column=doc.oi("column"), offset=doc.oi("offset"), host=doc.os("host"),
                    port=doc.oi("port"))


def asset_from_dict(doc: JSONDict) -> Asset:
    """One asset record of the wire format as its model record (every asset type)."""
    return _asset(_Fields(dict(doc), "asset"))


def _asset(doc: _Fields) -> Asset:
    kind = doc.s("type")
    location = _location(doc.obj("location"))
    if kind == "certificate":
        return CertificateAsset(
            id=doc.s("id"), location=location, sha256=doc.s("sha256"), subject=doc.s("subject"),
            issuer=doc.s("issuer"), serial=doc.s("serial"), key_algorithm=doc.s("key_algorithm"),
            key_size=doc.oi("key_size"), curve=doc.os("curve"), key_oid=doc.s("key_oid"),
            signature_algorithm=doc.s("signature_algorithm"),
            signature_scheme=doc.s("signature_scheme"), signature_hash=doc.os("signature_hash"),
            signature_oid=doc.s("signature_oid"), not_before=doc.moment("not_before"),
            not_after=doc.moment("not_after"), is_ca=doc.b("is_ca"),
            self_signed=doc.b("self_signed"), spki_sha256=doc.s("spki_sha256"),
            subject_key_id=doc.os("subject_key_id"),
            authority_key_id=doc.os("authority_key_id"),
            source_format=doc.os("source_format") or "PEM",
        )
    if kind in ("public-key", "private-key"):
        return KeyAsset(
            id=doc.s("id"), type="public-key" if kind == "public-key" else "private-key",
            location=location, key_algorithm=doc.s("key_algorithm"),
            key_size=doc.oi("key_size"), curve=doc.os("curve"), key_oid=doc.os("key_oid"),
            spki_sha256=doc.os("spki_sha256"), format=doc.s("format"),
            encrypted=doc.ob("encrypted"), protection=doc.os("protection"),
            comment=doc.os("comment"),
        )
    if kind in ("tls-endpoint", "ssh-endpoint"):
        details = {key: value for key, value in doc.doc.items() if key not in _ENDPOINT_KEYS}
        return EndpointAsset(id=doc.s("id"),
                             type="tls-endpoint" if kind == "tls-endpoint" else "ssh-endpoint",
                             location=location, address=doc.os("address"),
                             service=doc.s("service"), details=details)
    if kind == "config-setting":
        details = doc.raw("details") or {}
        if not isinstance(details, dict):
            raise ReportLoadError(f"malformed report: {doc.where}.details: expected an object")
        return ConfigAsset(id=doc.s("id"), location=location, kind=doc.s("kind"),
                           directive=doc.s("directive"), value=doc.s("value"),
                           scope=doc.os("scope"), details=dict(details))
    raise ReportLoadError(f"asset {doc.raw('id')!r} has an unknown type {kind!r}")


def _attribute(value: Any) -> bool | int | str | date | datetime | None:
    # The wire format writes dates and times as strings; read them back as dates and times
    # so that reporters that compute with them (expiry charts) see the same values a scan
    # gave. Written again, they give the same strings.
    if isinstance(value, str):
        try:
            if _TIMESTAMP.match(value):
                return parse_timestamp(value)
            if _DATE.match(value):
                return date.fromisoformat(value)
        except ValueError:  # shaped like a date but not one (2026-13-45): kept as text
            return value
        return value
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        # The model holds no floats, but a float written by hand is kept as text, not lost.
        return json.dumps(value)
    raise ReportLoadError(f"usage attribute of unsupported type {type(value).__name__}")


def _citation(doc: _Fields) -> Citation:
    return Citation(document=doc.s("document"), section=doc.os("section"), url=doc.os("url"),
                    confirmation=doc.os("confirmation"), note=doc.os("note"))


def _waiver_ref(doc: _Fields) -> Waiver:
    return Waiver(id=doc.s("id"), owner=doc.s("owner"), reason=doc.s("reason"),
                  expires=doc.day("expires"))


def _waiver(doc: _Fields) -> Waiver:
    return Waiver(id=doc.s("id"), owner=doc.s("owner"), reason=doc.s("reason"),
                  expires=doc.day("expires"), rule=doc.os("rule"), asset=doc.os("asset"),
                  sha256=doc.os("sha256"), path=doc.os("path"), subject=doc.os("subject"))


def finding_from_dict(doc: JSONDict) -> Finding:
    """One finding record of the wire format as a :class:`Finding` (with its usage)."""
    return _finding(_Fields(dict(doc), "finding"))


def _finding(doc: _Fields) -> Finding:
    location = _location(doc.obj("location"))
    usage_doc = doc.obj("usage")
    attributes = usage_doc.raw("attributes") or {}
    if not isinstance(attributes, dict):
        raise ReportLoadError(f"malformed report: {usage_doc.where}.attributes: "
                              "expected an object")
    usage = CryptoUsage(
        asset_id=doc.s("asset"), context=usage_doc.s("context"),
        algorithm=usage_doc.s("algorithm"), location=location,
        key_size=usage_doc.oi("key_size"), curve=usage_doc.os("curve"),
        hash=usage_doc.os("hash"), strength=usage_doc.oi("strength"),
        quantum_vulnerable=usage_doc.ob("quantum_vulnerable"), oid=usage_doc.os("oid"),
        attributes=tuple((str(name), _attribute(value)) for name, value in attributes.items()),
    )
    waiver = doc.raw("waiver")
    return Finding(
        asset_id=doc.s("asset"), rule=doc.s("rule"), status=doc.status("status"),
        severity=doc.s("severity"), message=doc.s("message"),
        citations=tuple(_citation(c) for c in doc.objects("citation", required=False)),
        location=location, usage=usage,
        waiver=_waiver_ref(doc.obj("waiver")) if waiver is not None else None,
        waiver_note=doc.os("waiver_note"),
        summary=doc.os("summary"),
    )


def _error(doc: _Fields) -> RunError:
    return RunError(location=_location(doc.obj("location")), reason=doc.s("reason"),
                    message=doc.s("message"))


def _chain(doc: _Fields) -> Chain:
    return Chain(id=doc.s("id"), certificates=doc.strings("certificates"),
                 complete=doc.b("complete"), weakest_status=doc.status("weakest_status"),
                 weakest_asset=doc.s("weakest_asset"), weakest_rule=doc.s("weakest_rule"))


def _summary(doc: _Fields) -> Summary:
    counts = doc.obj("findings_by_status")
    by_status = []
    for name in counts.doc:
        try:
            Status(name)
        except ValueError:
            raise ReportLoadError(f"malformed report: {counts.where}: {name!r} is not a "
                                  "status") from None
        by_status.append((name, counts.i(name)))
    worst = doc.raw("worst_status")
    return Summary(
        inputs=doc.i("inputs"), assets=doc.i("assets"), errors=doc.i("errors"),
        findings_by_status=tuple(by_status), waived=doc.i("waived"),
        files_read=doc.i("files_read"), files_skipped=doc.i("files_skipped"),
        worst_status=doc.status("worst_status") if worst is not None else None,
    )

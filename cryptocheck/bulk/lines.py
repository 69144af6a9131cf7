"""The bulk output's hot lines, cut from the wire format's one definition.

Why: a bulk run writes millions of ``certificate`` lines (from C) and, on a bad input,
tens of thousands of ``error`` lines, too many to build each as a dict and encode it. They are
written from templates instead, and the templates are not written by hand: each is the
wire format's own record (:func:`cryptocheck.report.jsonl.error_record`, or
:func:`certificate_record` here, encoded by :func:`cryptocheck.report.wire.dumps_line`) with a
marker in every variable place, cut at the markers. Whatever the wire format says about key
order, spacing or string escapes, the templates say the same.

>>> CERTIFICATE.pieces[0]
'{"record":"certificate","id":"cert-'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptocheck.model import Location, RunError
from cryptocheck.report.jsonl import error_record
from cryptocheck.report.wire import clean_text, dumps_line
from cryptocheck.sources.files.context import asset_id


def certificate_record(certificate_id: str, sha256: str, path: str | None, index: int | None,
                       line: int | None, offset: int | None, class_name: str, status: str,
                       not_before: str, not_after: str) -> dict[str, Any]:
    """The bulk ``certificate`` line (bulk/schema.py: ``bulk_certificate``): one certificate
    of a class, where it was read and its validity period (``YYYY-MM-DDTHH:MM:SSZ``)."""
    return {"record": "certificate", "id": certificate_id, "sha256": sha256,
            "path": clean_text(path or "-"), "index": index, "line": line, "offset": offset,
            "class": class_name, "status": status, "not_before": not_before,
            "not_after": not_after}


def json_text(text: str | None) -> str:
    """``text`` as the wire format writes a string value (``null`` for None)."""
    return dumps_line({"": clean_text(text)})[4:-1]


@dataclass(frozen=True)
class Template:
    """A record's JSON line cut at its variable places: ``pieces[0] value[0] pieces[1] ...
    value[n-1] pieces[n]``, with the values in the order of ``holes``."""

    pieces: tuple[str, ...]
    holes: tuple[str, ...]

    def fill(self, values: Mapping[str, str]) -> str:
        """The line with every hole given its encoded value (without the newline)."""
        out = [self.pieces[0]]
        for hole, piece in zip(self.holes, self.pieces[1:], strict=True):
            out.append(values[hole])
            out.append(piece)
        return "".join(out)


def _marker(name: str) -> str:
    return f"@hole-{name}@"


def cut(record: Mapping[str, Any], quoted: Sequence[str]) -> Template:
    """Cut the line of ``record``, whose variable values are markers (``_marker``), at each
    marker; for the names in ``quoted`` the cut takes the quotes around the marker too (the
    value given to :meth:`Template.fill` is then a whole JSON value, not a string's inside)."""
    line = dumps_line(record)
    found = re.split(r'("?)@hole-([a-z0-9_]+)@("?)', line)
    pieces, holes = [found[0]], []
    for at in range(1, len(found), 4):
        before, name, after = found[at:at + 3]
        if name in quoted and not before == after == '"':
            raise ValueError(f"template hole {name} is not a whole value")
        if name not in quoted:
            pieces[-1] += before  # the quotes belong to the template
        holes.append(name)
        pieces.append((after if name not in quoted else "") + found[at + 3])
    return Template(tuple(pieces), tuple(holes))


# The asset id's prefix comes from the one asset_id; the C scanner writes the hash after it.
_ID_PREFIX = asset_id("cert", Location(), "")[:-16]
_M = _marker
CERTIFICATE = cut(certificate_record(
    _ID_PREFIX + _M("id"), _M("sha256"), _M("path"), _M("index"), _M("line"),  # type: ignore[arg-type]
    _M("offset"), _M("class"), _M("status"), _M("not_before"), _M("not_after")),  # type: ignore[arg-type]
    quoted=("path", "index", "line", "offset", "not_before", "not_after"))
ERROR = cut(error_record(RunError(
    Location(path=_M("path"), index=_M("index"), line=_M("line"), offset=_M("offset")),  # type: ignore[arg-type]
    reason=_M("reason"), message=_M("message"))),
    quoted=("path", "index", "line", "offset", "reason", "message"))


if CERTIFICATE.holes != ("id", "sha256", "path", "index", "line", "offset", "class", "status",
                         "not_before", "not_after"):
    raise ValueError(f"certificate line holes out of order: {CERTIFICATE.holes}")


def class_middle(class_name: str, status: str) -> str:
    """What every certificate line of a class has between its offset and its notBefore."""
    p = CERTIFICATE.pieces
    return p[6] + class_name + p[7] + status + p[8]


def scanner_pieces() -> tuple[bytes, ...]:
    """The pieces the C scanner writes around the values of a certificate line (before the
    id's hash, the SHA-256, path, index, line and offset; then, after the class's middle and
    notBefore, the piece before notAfter and the end of the line with its newline)."""
    p = CERTIFICATE.pieces
    return tuple(piece.encode() for piece in (*p[:6], p[9], p[10] + "\n"))

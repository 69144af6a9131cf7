"""load.py reads untrusted JSON (a report handed on, an upload to the service): any mutation
of a valid report either loads, and then renders in every format, or is one ReportLoadError
naming what is wrong; never another exception."""

from __future__ import annotations

import copy
import io
import json
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cryptocheck.model import ConfigAsset, EndpointAsset, Location
from cryptocheck.report import FORMATS, make_reporter, replay
from cryptocheck.report.load import ReportLoadError, load_report
from cryptocheck.report.sample import sample_report
from cryptocheck.report.wire import dumps_report


def _base() -> dict[str, Any]:
    report = sample_report()
    endpoint = EndpointAsset(id="tls:h:443", type="tls-endpoint",
                             location=Location(host="h", port=443), address="192.0.2.1",
                             service="tls",
                             details={"protocols": {"TLSv1.2": {"accepted": True}}})
    config = ConfigAsset(id="config:a.conf:3:ssl_protocols",
                         location=Location(path="a.conf", line=3, column=1), kind="nginx",
                         directive="ssl_protocols", value="TLSv1.2", details={"x": [1]})
    document: dict[str, Any] = json.loads(dumps_report(report))
    extra = json.loads(dumps_report(report.__class__(
        **{**report.__dict__, "assets": (endpoint, config)})))
    document["assets"] += extra["assets"]
    return document


BASE = _base()
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False)
    | st.text(max_size=12) | st.sampled_from(["2026-13-45", "2026-01-01T00:00:00Z", "approved",
                                              "certificate", "tls-endpoint", "config-setting"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=6)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


PATHS = [p for p in _paths(BASE) if p]


def _render_all(text: str) -> None:
    report = load_report(text)
    for fmt in FORMATS:
        stream = io.StringIO()
        replay(report, make_reporter(fmt, stream))
        assert stream.getvalue()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.booleans(), JSON_VALUES),
                min_size=1, max_size=3))
def test_mutated_reports_load_or_fail_cleanly(mutations: list[tuple[Any, bool, Any]]) -> None:
    document = copy.deepcopy(BASE)
    for path, delete, value in mutations:
        parent: Any = document
        try:
            for step in path[:-1]:
                parent = parent[step]
            if delete and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    try:
        _render_all(json.dumps(document))
    except ReportLoadError as exc:
        assert str(exc)


def test_base_document_renders() -> None:
    _render_all(json.dumps(BASE))
    assert date.fromisoformat(BASE["policy"]["as_of"])

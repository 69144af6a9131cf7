"""A new probe's facts reach the endpoint asset through ``EndpointFacts.reported``: one probe
module and one line in PROBES, with no field in facts.py and no line in endpoint.py."""

from __future__ import annotations

import pytest
from servers.tls import FIXTURES, s_server

from cryptocheck.model import EndpointAsset
from cryptocheck.sources.probe import FULL, Probe
from cryptocheck.sources.tls import TlsOptions, TlsStats, endpoint, iter_tls_items
from cryptocheck.sources.tls.facts import ProbeContext, hello_spec, send_hello

pytestmark = pytest.mark.tls_server
OPTIONS = TlsOptions(read_timeout=3.0, connect_timeout=3.0, ca_files=(str(FIXTURES / "ca.pem"),))


def _probe(key: str) -> Probe[ProbeContext]:
    async def run(ctx: ProbeContext) -> None:
        # One real hello, so the fact comes from the server and the budget is kept.
        suites = ctx.version("TLSv1.2").suites
        flight = await send_hello(ctx.endpoint, ctx.facts, hello_spec(ctx.endpoint, 0x0303, suites))
        assert flight.hello is not None
        ctx.facts.reported[key] = {"cipher_suite": flight.hello.cipher_suite}
    return Probe(f"test:{key}", run, needs=("versions",), adds=(f"test:{key}",), budget=1,
                 modes=(FULL,))


def _endpoint(port: int) -> EndpointAsset:
    items = list(iter_tls_items([f"127.0.0.1:{port}"], OPTIONS, TlsStats()))
    found = items[0]
    assert isinstance(found, EndpointAsset), items
    return found


def test_a_reported_fact_becomes_a_detail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(endpoint, "PROBES", (*endpoint.PROBES, _probe("test_fact")))
    with s_server("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256") as port:
        asset = _endpoint(port)
    assert asset.details["test_fact"] == {"cipher_suite": 0xC02F}
    assert asset.details["mode"] == "full"  # the endpoint's own details are all still there


def test_a_probe_cannot_overwrite_an_endpoint_detail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(endpoint, "PROBES", (*endpoint.PROBES, _probe("mode")))
    with s_server("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256") as port, \
            pytest.raises(ValueError, match="mode"):
        _endpoint(port)

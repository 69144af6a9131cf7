"""A new SSH probe's facts reach the endpoint asset through ``SshFacts.reported``: one probe
module and one line in PROBES, with no field in context.py and no line in scan.py. Against a
real sshd started here (its key exchange list configured, so the reported fact is known)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from servers.sshd import SSHD, host_key, sshd

from cryptocheck.model import EndpointAsset
from cryptocheck.sources.probe import FULL, Probe
from cryptocheck.sources.ssh import SshOptions, iter_ssh_items, scan
from cryptocheck.sources.ssh.context import SshContext

pytestmark = [
    pytest.mark.skipif(shutil.which(SSHD) is None or shutil.which("ssh-keygen") is None,
                       reason="OpenSSH not installed (README set-up installs it)"),
    pytest.mark.ssh_server,
]

KEX = "curve25519-sha256,diffie-hellman-group14-sha256"
# The host key and gex probes are off: only the KEXINIT's connection and the test probe's.
OPTIONS = SshOptions(timeout=10, host_keys=False, gex=False)


def _probe(key: str) -> Probe[SshContext]:
    async def run(ctx: SshContext) -> None:
        # A connection of its own, so the fact comes from the server and the budget is kept.
        async with ctx.session() as (_, _, kexinit):
            ctx.facts.reported[key] = {"kex": kexinit.lists["kex"][:2]}
    return Probe(f"test:{key}", run, needs=("kexinit",), adds=(f"test:{key}",), budget=1,
                 modes=(FULL,))


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    folder = tmp_path_factory.mktemp("sshd-details")
    key = host_key(folder / "ssh_host_ed25519_key")
    with sshd(folder, [key], f"KexAlgorithms {KEX}\n") as running:
        yield running.port


def _endpoint(port: int) -> EndpointAsset:
    items = list(iter_ssh_items([f"127.0.0.1:{port}"], OPTIONS))
    found = items[0]
    assert isinstance(found, EndpointAsset), items
    return found


def test_a_reported_fact_becomes_a_detail(port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "PROBES", (*scan.PROBES, _probe("test_fact")))
    asset = _endpoint(port)
    assert asset.details["test_fact"] == {"kex": KEX.split(",")}
    # The endpoint's own details are all still there.
    assert asset.details["kex"][:2] == KEX.split(",")
    assert asset.details["probe_errors"] == []


def test_a_probe_cannot_overwrite_an_endpoint_detail(port: int,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "PROBES", (*scan.PROBES, _probe("banner")))
    with pytest.raises(ValueError, match="banner"):
        _endpoint(port)


def test_without_a_reporting_probe_the_details_are_as_before(port: int) -> None:
    asset = _endpoint(port)
    assert set(asset.details) == {"banner", "software", "kex", "host_key_algorithms", "ciphers",
                                  "macs", "compression", "host_keys", "gex_modulus_sizes",
                                  "probe_errors"}


"""Parsers of untrusted SSH input never raise anything but their own errors."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from cryptocheck.model import ConfigAsset, RunError
from cryptocheck.sources.config import sshd as ssh_config
from cryptocheck.sources.ssh import kex, wire


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_kexinit_parse_raises_only_protocol_errors(payload: bytes) -> None:
    try:
        parsed = wire.KexInit.parse(payload)
    except wire.SshProtocolError:
        return
    assert set(parsed.lists) == set(wire.KEXINIT_FIELDS)


def test_kexinit_round_trip() -> None:
    lists = {field: [f"{field}-a", f"{field}-b"] for field in wire.KEXINIT_FIELDS}
    server = wire.KexInit(lists, False)
    ours = wire.KexInit.parse(wire.kexinit_payload(["curve25519-sha256"], ["ssh-ed25519"],
                                                   server))
    assert ours.lists["kex"] == ["curve25519-sha256"]
    assert ours.lists["host_key_algorithms"] == ["ssh-ed25519"]
    assert ours.lists["macs_server_to_client"] == lists["macs_server_to_client"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_packet_reader_raises_only_protocol_errors(data: bytes) -> None:
    async def read() -> None:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        conn = wire.Connection(reader, None)  # type: ignore[arg-type]
        try:
            await conn.receive()
        except (wire.SshProtocolError, asyncio.IncompleteReadError):
            pass

    asyncio.run(read())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.sampled_from(["sshd", "ssh"]))
def test_config_parser_yields_only_assets_and_errors(text: str, kind: str) -> None:
    for item in ssh_config.config_assets("fuzz/sshd_config", text, kind, defaults=False,
                                         read=lambda path: ""):
        assert isinstance(item, ConfigAsset | RunError)


def test_modp_primes_match_rfc3526_group14_ends() -> None:
    p = kex.modp_prime(2048)
    text = f"{p:X}"
    assert text.startswith("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1")
    assert text.endswith("15728E5A8AACAA68FFFFFFFFFFFFFFFF")

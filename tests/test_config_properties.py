"""Parsers of untrusted text never raise, whatever the bytes; the cipher-string engine
always returns suites from the catalogue; config lines and live servers are judged alike."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cryptocheck.model import EndpointAsset, Location, RunError
from cryptocheck.policy import load_policy
from cryptocheck.run import findings_for
from cryptocheck.sources.config.cipherstring import expand
from cryptocheck.sources.config.settings import FileContext
from cryptocheck.sources.config.stream import ConfigRun, iter_config_items

_ALPHABET = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                 " \t\n;{}#\"'\\:=+-!@,<>/*.$[]_") + ["ssl_ciphers ", "server {",
                                                                       "SSLProtocol ", "bind ",
                                                                       "include ", "\u00e9", "\x00"])
_TEXT = st.lists(_ALPHABET, max_size=300).map("".join)


def _ctx(kind: str) -> FileContext:
    def read(path: str) -> bytes:
        raise OSError("not in this test")
    return FileContext(path=f"fuzz.{kind}", kind=kind, read_bytes=read)


@settings(max_examples=150, deadline=None)
@given(_TEXT)
def test_text_parsers_never_raise(text: str) -> None:
    import importlib

    for kind in ("nginx", "apache", "haproxy", "openssl_conf", "java", "postfix", "kubernetes",
                 "terraform"):
        module = importlib.import_module(f"cryptocheck.sources.config.{kind}")
        for item in module.parse(_ctx(kind), text):
            assert isinstance(item, RunError) or item.location.line is not None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["HIGH", "MEDIUM", "LOW", "!aNULL", "-kRSA", "+AESGCM", "@STRENGTH",
                                 "ECDHE+AESGCM", "DEFAULT", "RC4", "3DES", ":", ",", " ", "@SECLEVEL=3",
                                 "AES128-SHA", "NOPE", "$", "ALL", "COMPLEMENTOFALL"]),
                max_size=12).map("".join))
def test_cipher_strings_never_raise(text: str) -> None:
    result = expand(text)
    assert len({s.iana for s in result.suites}) == len(result.suites)
    assert all(not s.tls13 for s in result.suites)


def test_config_line_and_live_server_are_judged_identically(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text("http {\n ssl_protocols TLSv1 TLSv1.2;\n"
                                         " ssl_ciphers DES-CBC3-SHA:ECDHE-RSA-AES128-GCM-SHA256;\n}\n",
                                         "utf-8")
    policy = load_policy(None)
    day = date(2026, 11, 22)
    config = [i for i in iter_config_items([str(tmp_path)], run=ConfigRun())
              if not isinstance(i, RunError)]
    from_config = {(f.usage.context, f.usage.algorithm): (f.rule, f.status)
                   for asset in config for f in findings_for(asset, policy, day)}
    endpoint = EndpointAsset(
        id="tls:example:443", type="tls-endpoint", location=Location(host="example", port=443),
        address="192.0.2.1", service="tls",
        details={"protocols": {
            "TLSv1.0": {"accepted": True, "cipher_suites": []},
            "TLSv1.2": {"accepted": True, "cipher_suites": [
                "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]}}})
    from_server = {(f.usage.context, f.usage.algorithm): (f.rule, f.status)
                   for f in findings_for(endpoint, policy, day)}
    assert from_config == from_server
    assert len(from_config) >= 6

"""cbom: valid against the official CycloneDX 1.6 JSON schema (as cyclonedx-python-lib ships
it, with its SPDX and JSF references), and every asset and finding of the JSON report is in
it with its verdict."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cyclonedx
import jsonschema
import pytest
from click.testing import CliRunner
from referencing import Registry, Resource
from test_report_load import config_setting, mixed_report, tls_endpoint, write_mixed

from cryptocheck.cli import main
from cryptocheck.model import CryptoUsage, EndpointAsset, Location
from cryptocheck.policy import judge, load_policy
from cryptocheck.report import finding_fingerprint
from cryptocheck.report.cbom import render_cbom
from cryptocheck.report.cbom_components import is_algorithm as _is_algorithm
from cryptocheck.report.cbom_components import primitive as _primitive
from cryptocheck.report.cbom_components import quantum_level as _quantum_level
from cryptocheck.report.sample import empty_report, sample_report
from cryptocheck.report.wire import dumps_report

_RES = Path(cyclonedx.__file__).parent / "schema" / "_res"


def _schema(name: str) -> Any:
    return json.loads((_RES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    bom = _schema("bom-1.6.SNAPSHOT.schema.json")
    assert bom["$id"] == "http://cyclonedx.org/schema/bom-1.6.schema.json"
    registry = Registry().with_resources([
        ("http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json",
         Resource.from_contents(_schema("spdx.SNAPSHOT.schema.json"))),
        ("http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json",
         Resource.from_contents(_schema("jsf-0.82.SNAPSHOT.schema.json"))),
    ])
    return jsonschema.Draft7Validator(bom, registry=registry,
                                      format_checker=jsonschema.FormatChecker())


def _props(component: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for prop in component.get("properties", []):
        yield prop["name"], prop.get("value", "")


@pytest.mark.parametrize("build", [pytest.param(mixed_report, marks=pytest.mark.tls_server), sample_report, empty_report])
def test_valid_cyclonedx_1_6(build: object, validator: jsonschema.Draft7Validator) -> None:
    document = json.loads(render_cbom(build()))  # type: ignore[operator]
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    assert document["specVersion"] == "1.6" and document["bomFormat"] == "CycloneDX"


def test_the_validator_is_live(validator: jsonschema.Draft7Validator) -> None:
    document = json.loads(render_cbom(sample_report()))
    document["components"][0]["cryptoProperties"]["assetType"] = "gadget"
    document["components"][-1]["cryptoProperties"]["algorithmProperties"]["primitive"] = "magic"
    assert len(list(validator.iter_errors(document))) == 2


@pytest.mark.tls_server  # mixed_report scans a live s_server
def test_every_asset_and_finding_is_there_with_its_verdict() -> None:
    report = mixed_report()
    wire = json.loads(dumps_report(report))
    document = json.loads(render_cbom(report))
    components = {c["bom-ref"]: c for c in document["components"]}
    assert len(components) == len(document["components"])  # refs are unique
    by_asset: dict[str, list[dict[str, Any]]] = {}
    for finding in wire["findings"]:
        by_asset.setdefault(finding["asset"], []).append(finding)
    for asset in wire["assets"]:
        component = components[asset["id"]]
        props = dict(_props(component))
        findings = by_asset.get(asset["id"], [])
        statuses = [props[f"cryptocheck:finding:{i}:status"] for i in range(len(findings))]
        assert statuses == [f["status"] for f in findings]
        rules = [props[f"cryptocheck:finding:{i}:rule"] for i in range(len(findings))]
        assert rules == [f["rule"] for f in findings]
        if findings:
            judged = [f for f in findings if not f["waived"]] or findings
            order = ["approved", "legacy", "deprecated", "unknown", "disallowed"]
            worst = max(judged, key=lambda f: order.index(f["status"]))
            assert props["cryptocheck:status"] == worst["status"]
            assert props["cryptocheck:rule"] == worst["rule"]
            if worst["citation"]:
                assert worst["citation"][0]["document"] in props["cryptocheck:citation"]
    # every finding's fingerprint is on its asset's component
    fingerprints = {v for c in document["components"] for n, v in _props(c)
                    if n.endswith(":fingerprint") and c["bom-ref"] in by_asset}
    assert fingerprints == {finding_fingerprint(f) for f in report.findings}


@pytest.mark.tls_server  # mixed_report scans a live s_server
def test_crypto_properties_of_each_kind() -> None:
    document = json.loads(render_cbom(mixed_report()))
    components = {c["bom-ref"]: c for c in document["components"]}
    cert = next(c for c in document["components"]
                if c["cryptoProperties"]["assetType"] == "certificate")
    props = cert["cryptoProperties"]["certificateProperties"]
    assert props["notValidAfter"].endswith("Z") and props["subjectName"]
    assert components[props["subjectPublicKeyRef"]]["cryptoProperties"]["assetType"] == \
        "related-crypto-material"
    assert components[props["signatureAlgorithmRef"]]["cryptoProperties"][
        "algorithmProperties"]["primitive"] == "signature"
    report = mixed_report()
    endpoint = tls_endpoint(report)
    tls = components[endpoint.id]["cryptoProperties"]
    assert tls["assetType"] == "protocol"
    assert tls["protocolProperties"]["type"] == "tls"
    assert tls["protocolProperties"]["version"] == "TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3"
    judged_suites = {f.usage.algorithm for f in report.findings
                     if f.asset_id == endpoint.id and f.usage.context == "tls.cipher-suite"}
    assert judged_suites and {s["name"] for s in tls["protocolProperties"]["cipherSuites"]} == \
        judged_suites
    assert all(s.get("algorithms") for s in tls["protocolProperties"]["cipherSuites"])
    config = components[config_setting(report).id]
    assert config["cryptoProperties"]["protocolProperties"]["type"] == "tls"
    assert ("cryptocheck:directive", "ssl_protocols") in set(_props(config))
    algorithms = [c["cryptoProperties"]["algorithmProperties"] for c in document["components"]
                  if c["cryptoProperties"]["assetType"] == "algorithm"]
    assert any(a.get("curve") == "secp256r1" for a in algorithms)
    assert any(a.get("mode") == "gcm" and a["primitive"] == "ae" for a in algorithms)
    assert any(a.get("nistQuantumSecurityLevel") == 0 and a.get("classicalSecurityLevel")
               for a in algorithms)
    hybrid = CryptoUsage(asset_id="x", context="tls.group", algorithm="X25519MLKEM768",
                         location=Location(host="h", port=1), quantum_vulnerable=False)
    assert _primitive(hybrid) == "kem"
    assert _quantum_level(CryptoUsage(asset_id="x", context="public-key", algorithm="ML-DSA-65",
                                      location=Location(path="k"))) == 3
    # Algorithm components count every algorithm finding once, by status.
    counted = sum(int(v) for c in document["components"]
                  if c["cryptoProperties"]["assetType"] == "algorithm"
                  for n, v in _props(c) if n.startswith("cryptocheck:findings:"))
    assert counted == sum(1 for f in report.findings if _is_algorithm(f.usage))
    meta = dict(_props(document["metadata"]))
    assert meta["cryptocheck:policy:id"] == "nhs-acagpg"
    assert meta["cryptocheck:verdict"] == "FAIL"


@pytest.mark.tls_server  # mixed_report scans a live s_server
def test_cli_cbom_from_saved_report(tmp_path: Path,
                                    validator: jsonschema.Draft7Validator) -> None:
    saved = write_mixed(tmp_path / "m.json")
    out = tmp_path / "bom.cdx.json"
    result = CliRunner().invoke(main, ["report", str(saved), "--format", "cbom", "-o", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert not list(validator.iter_errors(document))
    assert document == json.loads(render_cbom(mixed_report()))  # deterministic


def test_ssh_endpoint_is_an_ssh_protocol_component(validator: jsonschema.Draft7Validator) -> None:
    """SSH endpoints come from the SSH source; here one record with two judged usages."""
    report = sample_report()
    where = Location(host="127.0.0.1", port=2222)
    endpoint = EndpointAsset(id="ssh:127.0.0.1:2222", type="ssh-endpoint", location=where,
                             address="127.0.0.1", service="ssh",
                             details={"banner": "SSH-2.0-OpenSSH_9.2"})
    policy = load_policy(None)
    findings = tuple(
        judge(CryptoUsage(asset_id=endpoint.id, context=context, algorithm=name,
                          location=where), policy, report.as_of)
        for context, name in (("ssh.kex", "curve25519-sha256"), ("ssh.mac", "hmac-sha1")))
    mixed = dataclasses.replace(report, assets=(*report.assets, endpoint),
                                findings=(*report.findings, *findings))
    document = json.loads(render_cbom(mixed))
    assert not list(validator.iter_errors(document))
    component = next(c for c in document["components"] if c["bom-ref"] == endpoint.id)
    protocol = component["cryptoProperties"]["protocolProperties"]
    assert protocol["type"] == "ssh" and len(protocol["cryptoRefArray"]) == 2
    primitives = {c["name"]: c["cryptoProperties"]["algorithmProperties"]["primitive"]
                  for c in document["components"]
                  if c["cryptoProperties"]["assetType"] == "algorithm"}
    assert primitives["curve25519-sha256"] == "key-agree" and primitives["hmac-sha1"] == "mac"

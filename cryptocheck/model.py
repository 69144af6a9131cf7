"""Frozen records that flow through cryptocheck: source -> asset -> usage -> finding -> report.

These are the internal records. The JSON wire format is built from them in
``cryptocheck.report.wire`` and is described by ``cryptocheck/schema/report.schema.json``.
No record here has a field that could hold private key material or a password: sources
read such material, derive what the policy needs (algorithm, size, curve, fingerprints of
the *public* part) and drop the rest.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal


class Status(str, enum.Enum):
    """A policy verdict. Order (best to worst) is given by :attr:`rank`."""

    APPROVED = "approved"
    LEGACY = "legacy"
    DEPRECATED = "deprecated"
    UNKNOWN = "unknown"
    DISALLOWED = "disallowed"

    @property
    def rank(self) -> int:
        """0 for approved up to 4 for disallowed.

        ``unknown`` ranks between deprecated and disallowed: something the catalogue or the
        policy cannot place is never silently approved, so ``--fail-on deprecated`` fails on
        it, while ``--fail-on disallowed`` (the default) fails only on what the policy forbids.
        """
        return _STATUS_RANK[self]

    @classmethod
    def parse(cls, text: str) -> Status:
        """The status named ``text`` (case-insensitive); ValueError if there is none."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown status {text!r} (expected one of: {names})") from None


_STATUS_RANK = {
    Status.APPROVED: 0,
    Status.LEGACY: 1,
    Status.DEPRECATED: 2,
    Status.UNKNOWN: 3,
    Status.DISALLOWED: 4,
}

SEVERITIES = ("none", "low", "medium", "high", "critical")


@dataclass(frozen=True, slots=True)
class Location:
    """Where something was found.

    ``path`` names a file; a member of an archive is written ``outer.zip!inner/dir/file.pem``
    (nested archives add further ``!``). ``index`` is the 0-based position of the item among
    the items of its file (the n-th certificate of a bundle), ``line`` and ``column`` are
    1-based, ``offset`` a byte offset. ``host``/``port`` are for network endpoints.
    """

    path: str | None = None
    index: int | None = None
    line: int | None = None
    column: int | None = None
    offset: int | None = None
    host: str | None = None
    port: int | None = None

    def __str__(self) -> str:
        if self.host is not None:
            where = f"{self.host}:{self.port}" if self.port is not None else self.host
        else:
            where = self.path or "-"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.index is not None:
            where += f"#{self.index}"
        return where


@dataclass(frozen=True, slots=True)
class CertificateAsset:
    """One X.509 certificate as found in one place.

    Names follow DESIGN.md: ``key_algorithm`` is one of ``RSA``, ``RSA-PSS``, ``DSA``, ``EC``,
    ``Ed25519``, ``Ed448``, an ML-DSA/SLH-DSA parameter set name, or ``unknown`` (then
    ``key_oid`` holds the dotted OID). ``signature_algorithm`` is the standard name of the
    signature OID (``sha256WithRSAEncryption``, ``ecdsa-with-SHA384``, ``RSASSA-PSS``,
    ``Ed25519``, ``ML-DSA-65``...; the dotted OID when unknown), ``signature_scheme`` its
    family (``RSA``, ``RSA-PSS``, ``ECDSA``, ``DSA``, ``Ed25519``...) and ``signature_hash``
    the hash (``SHA-256``; for RSA-PSS the hash from its parameters; None for pure EdDSA and
    ML-DSA, which name no separate hash).
    """

    id: str
    location: Location
    sha256: str
    subject: str
    issuer: str
    serial: str
    key_algorithm: str
    key_size: int | None
    curve: str | None
    key_oid: str
    signature_algorithm: str
    signature_scheme: str
    signature_hash: str | None
    signature_oid: str
    not_before: datetime
    not_after: datetime
    is_ca: bool
    self_signed: bool
    spki_sha256: str
    subject_key_id: str | None = None
    authority_key_id: str | None = None
    source_format: str = "PEM"
    type: Literal["certificate"] = "certificate"


@dataclass(frozen=True, slots=True)
class KeyAsset:
    """A public or private key found on its own (not inside a certificate).

    ``format`` says how it was stored (``PKCS#1``, ``PKCS#8``, ``SEC1``, ``OpenSSH``,
    ``SubjectPublicKeyInfo``, ``ssh-public-key``, ``authorized_keys``, ``known_hosts``,
    ``PKCS#12``, ``JKS``...). For a private key, ``encrypted`` says whether the stored form is
    encrypted and ``protection`` names how (``PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC``,
    ``DES-EDE3-CBC``, ``aes256-ctr bcrypt``); when the key is encrypted and no password
    opened it, size and curve may be None (what the headers do not reveal stays unknown).
    ``spki_sha256`` is the SHA-256 of the DER SubjectPublicKeyInfo of the public part, when
    it can be known. Nothing here holds private key material.
    """

    id: str
    type: Literal["public-key", "private-key"]
    location: Location
    key_algorithm: str
    key_size: int | None
    curve: str | None
    key_oid: str | None
    spki_sha256: str | None
    format: str
    encrypted: bool | None = None
    protection: str | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class EndpointAsset:
    """A network service as it answered: a TLS or an SSH endpoint.

    ``location`` holds ``host`` (as the user named it) and ``port``; ``address`` is the IP
    address actually connected to; ``service`` names the protocol spoken before the handshake
    (``tls`` for direct TLS, ``smtp``/``imap``/``postgres``... for STARTTLS, ``ssh``).
    ``details`` is JSON-ready data owned by the source that made the asset and documented
    there (TLS: ``protocols``, ``groups``, ``certificates``...; SSH: ``banner``, ``kex``,
    ``host_keys``...). Certificates served by an endpoint are separate
    :class:`CertificateAsset` records whose location carries the same host and port.
    """

    id: str
    type: Literal["tls-endpoint", "ssh-endpoint"]
    location: Location
    address: str | None
    service: str
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)


@dataclass(frozen=True, slots=True)
class ConfigAsset:
    """One cryptographic setting in a configuration file or infrastructure code.

    ``location`` points at the directive (path, 1-based line and column). ``kind`` names the
    file kind (``nginx``, ``apache``, ``haproxy``, ``openssl``, ``java``, ``postfix``,
    ``terraform``, ``kubernetes``, ``sshd``, ``ssh``); ``directive`` the setting as written
    (``ssl_protocols``, ``SSLCipherSuite``, ``aws_lb_listener.web.ssl_policy``); ``value`` its
    value as written (settings that hold secrets are never recorded); ``scope`` the block it
    applies to (``server example.org:443``, ``Match User git``), when there is one.
    ``details`` is JSON-ready data owned by the parser (for example the effective, expanded
    list of cipher suites).
    """

    id: str
    location: Location
    kind: str
    directive: str
    value: str
    scope: str | None = None
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)
    type: Literal["config-setting"] = "config-setting"


Asset = CertificateAsset | KeyAsset | EndpointAsset | ConfigAsset


@dataclass(frozen=True, slots=True)
class RunError:
    """An input that could not be read: one record, with a reason; the run goes on.

    ``reason`` is a short stable code (``malformed-der``, ``truncated-pem``, ``wrong-password``,
    ``empty-file``, ``too-large``, ``archive-limit``, ``unreadable``, ``unsupported-format``,
    ``no-crypto-material``, ``malformed-pem``, ``garbage``); ``message`` says it for a person
    and never quotes secret material.
    """

    location: Location
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class CryptoUsage:
    """One algorithm in use, in the catalogue's canonical names: what policies judge.

    ``context`` says what it is used for (``certificate.public-key``,
    ``certificate.signature``, ``certificate.self-signature``, ``certificate.validity``,
    ``public-key``, ``private-key``, ``private-key.protection``; later sources add ``tls.*``
    and ``ssh.*``). ``strength`` is the classical security strength in bits from NIST
    SP 800-57 Part 1 Table 2 (None when it cannot be determined), ``quantum_vulnerable``
    whether a cryptographically relevant quantum computer breaks it (NIST IR 8547).
    ``attributes`` holds context-specific facts (``is_ca``, ``self_signed``, ``not_before``,
    ``not_after``, ``lifetime_days``, ``encrypted``, ``format``) as sorted (name, value) pairs.
    """

    asset_id: str
    context: str
    algorithm: str
    location: Location
    key_size: int | None = None
    curve: str | None = None
    hash: str | None = None
    strength: int | None = None
    quantum_vulnerable: bool | None = None
    oid: str | None = None
    attributes: tuple[tuple[str, bool | int | str | date | datetime | None], ...] = ()

    def attribute(self, name: str) -> bool | int | str | date | datetime | None:
        """The value of attribute ``name``, or None."""
        for key, value in self.attributes:
            if key == name:
                return value
        return None

    def describe(self) -> str:
        """A short human description: ``RSA 1024``, ``EC secp256r1``, ``RSA-PSS SHA-256``."""
        parts = [self.algorithm]
        if self.key_size is not None and self.curve is None:
            parts.append(str(self.key_size))
        if self.curve and self.curve.lower() != self.algorithm.lower():
            parts.append(self.curve)
        if self.hash:
            parts.append(f"with {self.hash}")
        if self.algorithm == "unknown" and self.oid:
            parts.append(f"(OID {self.oid})")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a rule comes from: document, section and a link; ``confirmation`` mirrors the
    reference file's code (C confirmed, R reproduced, U unconfirmed, I inferred)."""

    document: str
    section: str | None = None
    url: str | None = None
    confirmation: str | None = None
    note: str | None = None

    def __str__(self) -> str:
        text = self.document
        if self.section:
            text += f", {self.section}"
        return text


@dataclass(frozen=True, slots=True)
class Waiver:
    """An accepted exception: which findings it covers, who owns it, why, until when."""

    id: str
    owner: str
    reason: str
    expires: date
    rule: str | None = None
    asset: str | None = None
    sha256: str | None = None
    path: str | None = None
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """The verdict of the policy on one usage.

    ``rule`` is the id of the deciding rule (``unmatched`` when no rule of the policy applies:
    status ``unknown``) and ``summary`` that rule's one-line summary, carried so that no
    reporter has to take ``message`` apart (None only in a report written before findings
    carried it). ``waiver`` is set when a waiver in force covers the finding; ``waiver_note``
    says why a matching waiver was not applied (expired).
    """

    asset_id: str
    rule: str
    status: Status
    severity: str
    message: str
    citations: tuple[Citation, ...]
    location: Location
    usage: CryptoUsage
    waiver: Waiver | None = None
    waiver_note: str | None = None
    summary: str | None = None

    @property
    def waived(self) -> bool:
        return self.waiver is not None


@dataclass(frozen=True, slots=True)
class Chain:
    """A certification path built among the certificates given, leaf first.

    ``weakest_status`` is the worst status of any finding on any certificate of the path,
    ``weakest_asset`` the certificate that holds it and ``weakest_rule`` the rule.
    ``complete`` is True when the path ends at a self-signed certificate.
    """

    id: str
    certificates: tuple[str, ...]
    complete: bool
    weakest_status: Status
    weakest_asset: str
    weakest_rule: str


@dataclass(frozen=True, slots=True)
class PolicyInfo:
    """Which policy judged a run."""

    id: str
    version: str
    title: str
    sha256: str
    files: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts that add up: ``inputs == assets + errors``."""

    inputs: int
    assets: int
    errors: int
    findings_by_status: tuple[tuple[str, int], ...]
    waived: int
    files_read: int
    files_skipped: int
    worst_status: Status | None


@dataclass(frozen=True)
class Report:
    """Everything one run produced, in the order it was found."""

    tool_version: str
    command: str
    targets: tuple[str, ...]
    policy: PolicyInfo
    as_of: date
    started: datetime
    finished: datetime
    assets: tuple[Asset, ...]
    findings: tuple[Finding, ...]
    errors: tuple[RunError, ...]
    chains: tuple[Chain, ...] = ()
    summary: Summary | None = None
    waivers: tuple[Waiver, ...] = field(default=())

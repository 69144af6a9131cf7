"""What every configuration parser shares: turning a directive into a ConfigAsset with the
facts the policy judges, in the catalogue's names.

A parser finds a directive (file, line, column, scope) and says what it means with the
helpers here: :func:`cipher_details` (an OpenSSL cipher string, expanded by
:mod:`cryptocheck.sources.config.cipherstring`), :func:`protocol_details`, :func:`group_details`,
:func:`sigalg_details`, :func:`dh_param_details` (reads the prime), and
:meth:`FileContext.certificates` (reads certificates through :mod:`cryptocheck.sources.files`).
The ``details`` keys written here are the ones :mod:`cryptocheck.sources.config.usages` reads:

``protocols``          enabled protocol versions (``TLSv1.2``...)
``cipher_suites``      IANA names of the TLS <= 1.2 suites enabled, in order
``tls13_suites``       IANA names of the TLS 1.3 suites enabled
``groups``             IANA group names
``signature_schemes``  IANA signature scheme names
``dh``                 {``bits``, ``group``} of a DH prime
``keys``               [{``context``, ``algorithm``, ``key_size``, ``curve``}]
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptocheck.catalog import dh
from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.model import Asset, CertificateAsset, ConfigAsset, Location, RunError
from cryptocheck.sources.config.cipherstring import expand, tls13_suites

PROTOCOLS = tls_catalog.PROTOCOLS

# OpenSSL SignatureAlgorithms "ALG+HASH" -> IANA signature scheme names (RFC 8446 §4.2.3).
_SIGALG_PAIRS = {
    ("rsa", "sha1"): "rsa_pkcs1_sha1", ("rsa", "sha256"): "rsa_pkcs1_sha256",
    ("rsa", "sha384"): "rsa_pkcs1_sha384", ("rsa", "sha512"): "rsa_pkcs1_sha512",
    ("ecdsa", "sha1"): "ecdsa_sha1", ("ecdsa", "sha256"): "ecdsa_secp256r1_sha256",
    ("ecdsa", "sha384"): "ecdsa_secp384r1_sha384", ("ecdsa", "sha512"): "ecdsa_secp521r1_sha512",
    ("rsa-pss", "sha256"): "rsa_pss_rsae_sha256", ("rsa-pss", "sha384"): "rsa_pss_rsae_sha384",
    ("rsa-pss", "sha512"): "rsa_pss_rsae_sha512", ("pss", "sha256"): "rsa_pss_rsae_sha256",
    ("pss", "sha384"): "rsa_pss_rsae_sha384", ("pss", "sha512"): "rsa_pss_rsae_sha512",
    ("dsa", "sha1"): "dsa_sha1", ("dsa", "sha256"): "dsa_sha256", ("rsa", "md5"): "rsa_pkcs1_md5",
}


def protocol_name(text: str) -> str | None:
    """The standard name of a protocol version as configuration files spell it, or None
    (the spellings are catalogue data: :func:`cryptocheck.catalog.tls.protocol`)."""
    return tls_catalog.protocol(text)


def protocol_range(minimum: str | None, maximum: str | None) -> list[str]:
    """The protocol versions from ``minimum`` to ``maximum`` (standard names; None: open)."""
    lo = PROTOCOLS.index(minimum) if minimum in PROTOCOLS else 1  # SSLv2 is never implied
    hi = PROTOCOLS.index(maximum) if maximum in PROTOCOLS else len(PROTOCOLS) - 1
    return list(PROTOCOLS[lo:hi + 1])


def group_name(text: str) -> str:
    """The IANA name of a group as OpenSSL spells it (unknown names are kept as written)."""
    key = text.strip()
    group = tls_catalog.group_by_alias(key)
    return group.name if group is not None else key


def group_details(value: str) -> dict[str, Any]:
    """``groups`` of a colon- or comma-separated group list (``X25519:prime256v1``)."""
    names = [group_name(n) for n in re.split(r"[:,\s]+", value) if n and n.lower() != "auto"]
    return {"groups": names} if names else {}


def sigalg_details(value: str) -> dict[str, Any]:
    """``signature_schemes`` of an OpenSSL SignatureAlgorithms list (``RSA+SHA256:ed25519``
    or IANA names)."""
    out: list[str] = []
    for item in re.split(r"[:,\s]+", value):
        if not item:
            continue
        if "+" in item:
            alg, _, digest = item.partition("+")
            name = _SIGALG_PAIRS.get((alg.lower(), digest.lower()), item)
        else:
            scheme = tls_catalog.signature_scheme(item.lower()) or tls_catalog.signature_scheme(item)
            name = scheme.name if scheme else item
        out.append(name)
    return {"signature_schemes": out} if out else {}


def cipher_details(cipher_string: str) -> dict[str, Any]:
    """The suites an OpenSSL cipher string enables (``cipher_suites``, in OpenSSL's order),
    with what OpenSSL would ignore (``ignored``), refuse (``invalid``) and the security
    level it sets. (A fresh dict each call: callers add their own keys.)"""
    cached = _cipher_details(cipher_string.strip())
    return {k: list(v) if isinstance(v, tuple) else v for k, v in cached}


@functools.lru_cache(maxsize=4096)
def _cipher_details(cipher_string: str) -> tuple[tuple[str, Any], ...]:
    result = expand(cipher_string)
    # An explicit @SECLEVEL is honoured; without one every selected suite is judged (the
    # OpenSSL that runs the server may be older or built with a different default level).
    usable = result.usable() if result.security_level is not None else result.suites
    kept = {s.iana for s in usable}
    details: list[tuple[str, Any]] = [
        ("cipher_string", cipher_string),
        ("cipher_suites", tuple(s.iana for s in usable)),
    ]
    dropped = tuple(s.iana for s in result.suites if s.iana not in kept)
    if dropped:
        details.append(("below_security_level", dropped))
    if result.security_level is not None:
        details.append(("security_level", result.security_level))
    if result.ignored:
        details.append(("ignored", result.ignored))
    if result.invalid:
        details.append(("invalid", result.invalid))
    return tuple(details)


def ciphersuites_details(value: str) -> dict[str, Any]:
    """The TLS 1.3 suites of an OpenSSL ``Ciphersuites`` value."""
    suites, unknown = tls13_suites(value.strip())
    details: dict[str, Any] = {"tls13_suites": [s.iana for s in suites]}
    if unknown:
        details["ignored"] = list(unknown)
    return details


def protocol_details(protocols: Iterable[str]) -> dict[str, Any]:
    """``protocols`` in the fixed order of the catalogue."""
    enabled = set(protocols)
    return {"protocols": [p for p in PROTOCOLS if p in enabled]}


def dh_prime_bits(data: bytes) -> tuple[int | None, str | None]:
    """Size in bits of the prime of PEM/DER DH parameters (PKCS#3 or X9.42), and the named
    group it is (``ffdhe2048``, ``modp1024``: :mod:`cryptocheck.catalog.dh`) when it is one;
    (None, message) when unreadable."""
    import warnings

    with warnings.catch_warnings():
        # cryptography warns that finite-field DH is deprecated: judging it is our job.
        warnings.simplefilter("ignore")
        from cryptography.hazmat.primitives.serialization import (
            load_der_parameters,
            load_pem_parameters,
        )
    try:
        params = (load_pem_parameters(data) if b"-----BEGIN" in data
                  else load_der_parameters(data))
        numbers = params.parameter_numbers()
    except (ValueError, TypeError, AttributeError) as exc:
        return None, f"DH parameters cannot be read: {exc.__class__.__name__}"
    return int(numbers.p).bit_length(), dh.group_name(int(numbers.p))


def conf_command(name: str, value: str) -> dict[str, Any]:
    """What an OpenSSL SSL_CONF command (``ssl_conf_command``, ``SSLOpenSSLConfCmd``, an
    openssl.cnf system_default section entry) sets."""
    key = name.strip().lower()
    if key == "ciphersuites":
        return ciphersuites_details(value)
    if key == "cipherstring":
        return cipher_details(value)
    if key in ("groups", "curves"):
        return group_details(value)
    if key in ("signaturealgorithms", "sigalgs", "clientsignaturealgorithms"):
        return sigalg_details(value)
    if key == "minprotocol":
        version = protocol_name(value)
        return protocol_details(protocol_range(version, None)) if version else {}
    if key == "maxprotocol":
        version = protocol_name(value)
        return protocol_details(protocol_range(None, version)) if version else {}
    if key == "protocol":
        return protocol_details(_openssl_protocol_list(value))
    return {}


def _openssl_protocol_list(value: str) -> list[str]:
    """SSL_CONF ``Protocol``: ``ALL,-SSLv3,-TLSv1`` style (OpenSSL's default list is all)."""
    enabled: set[str] = set()
    for item in value.replace(",", " ").split():
        sign = item[0] if item[0] in "+-" else "+"
        word = item.lstrip("+-")
        if word.upper() == "ALL":
            names = list(PROTOCOLS[1:])
        else:
            one = protocol_name(word)
            names = [one] if one else []
        if sign == "-":
            enabled -= set(names)
        else:
            enabled |= set(names)
    return list(enabled)


@dataclass
class FileContext:
    """One configuration file being parsed: where findings point, and how to read files it
    names (includes, DH parameters, certificates) relative to it."""

    path: str
    kind: str
    read_bytes: Callable[[str], bytes]
    max_include_depth: int = 16
    occurrences: dict[tuple[str, int, str], int] = field(default_factory=dict)
    included: set[str] = field(default_factory=set)  # absolute paths read as includes

    def setting(self, line: int, column: int, directive: str, value: str,
                scope: str | None = None, details: dict[str, Any] | None = None,
                path: str | None = None) -> ConfigAsset:
        """A ConfigAsset for one directive. Its id is ``config:PATH:LINE:DIRECTIVE`` (with
        ``#n`` when a line holds the same directive twice)."""
        where = path or self.path
        key = (where, line, directive)
        n = self.occurrences.get(key, 0)
        self.occurrences[key] = n + 1
        asset_id = f"config:{where}:{line}:{directive}" + (f"#{n}" if n else "")
        return ConfigAsset(id=asset_id, location=Location(path=where, line=line, column=column),
                           kind=self.kind, directive=directive, value=value, scope=scope,
                           details=details or {})

    def error(self, reason: str, message: str, line: int | None = None,
              path: str | None = None, column: int | None = None) -> RunError:
        """A RunError at ``line`` of this file (or of ``path``)."""
        return RunError(Location(path=path or self.path, line=line, column=column), reason,
                        message)

    def resolve(self, name: str, base: str | None = None) -> str:
        """``name`` relative to the directory of ``base`` (default: this file)."""
        if os.path.isabs(name):
            return name
        return os.path.normpath(os.path.join(os.path.dirname(base or self.path), name))

    def resolve_prefixed(self, name: str, path: str) -> str:
        """``name`` as servers with a prefix resolve it (nginx's prefix, httpd's ServerRoot):
        relative to the main file's directory, else to the file holding the directive."""
        main = self.resolve(name)
        return main if os.path.exists(main) else self.resolve(name, path)

    def read_text(self, name: str) -> str | None:
        """The text of a file the configuration names, or None when it cannot be read."""
        try:
            return self.read_bytes(name).decode("utf-8", "replace")
        except OSError:
            return None

    def dh_param_setting(self, line: int, column: int, directive: str, value: str,
                         scope: str | None, path: str | None = None,
                         target: str | None = None) -> Iterator[ConfigAsset | RunError]:
        """The setting of a DH parameter file: the prime is read and its size judged.
        ``target`` is the file when the caller resolved it (default: ``value`` relative to
        the file holding the directive)."""
        target = target or self.resolve(value, path)
        try:
            data = self.read_bytes(target)
        except OSError as exc:
            yield self.error("unreadable", f"{directive} {value}: {exc.strerror or exc}",
                             line, path, column)
            yield self.setting(line, column, directive, value, scope, {"file": target}, path)
            return
        bits, group = dh_prime_bits(data)
        if bits is None:
            yield self.error("malformed-dh-parameters", f"{directive} {value}: {group}", line,
                             path, column)
            yield self.setting(line, column, directive, value, scope, {"file": target}, path)
            return
        yield self.setting(line, column, directive, value, scope,
                           {"file": target, "dh": {"bits": bits, "group": group}}, path)

    def certificates(self, line: int, column: int, directive: str, value: str,
                     path: str | None = None, target: str | None = None,
                     ) -> Iterator[Asset | RunError]:
        """The certificates (and keys) in a file the configuration names, read by the core
        certificate code and located at the directive."""
        target = target or self.resolve(value, path)
        try:
            data = self.read_bytes(target)
        except OSError as exc:
            yield self.error("unreadable", f"{directive} {value}: {exc.strerror or exc}",
                             line, path, column)
            return
        yield from self.certificate_bytes(data, line, column, directive, path)

    def certificate_bytes(self, data: bytes, line: int, column: int, directive: str,
                          path: str | None = None) -> Iterator[Asset | RunError]:
        """Certificates in ``data`` (PEM or DER), located at the directive."""
        from cryptocheck.sources.files import SourceOptions, SourceStats
        from cryptocheck.sources.files.context import asset_id
        from cryptocheck.sources.files.walk import scan_bytes

        where = path or self.path
        for index, item in enumerate(scan_bytes(data, f"{where}:{line}", SourceOptions(),
                                                SourceStats())):
            location = Location(path=where, line=line, column=column, index=index)
            if isinstance(item, RunError):
                yield RunError(location, item.reason, f"{directive}: {item.message}")
            elif isinstance(item, CertificateAsset):
                yield dataclasses.replace(item, location=location,
                                          id=asset_id("cert", location, item.sha256))
            elif item.type == "private-key":
                continue  # a key file named by the configuration is not the certificate
            else:
                yield dataclasses.replace(item, location=location)


def fingerprint(*parts: str) -> str:
    """A short stable hash of ``parts`` (for ids and baselines)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]

"""Postfix ``main.cf``: TLS protocols, cipher grades and lists, DH parameters, certificates.

``main.cf`` is ``name = value`` lines; a line starting with white space continues the one
before; ``#`` lines are comments; ``$name`` refers to another parameter. Settings read:

- ``smtpd_tls_protocols``, ``smtpd_tls_mandatory_protocols`` and the ``smtp_``/``lmtp_``
  forms: ``!SSLv2, !SSLv3`` (exclusions), ``>=TLSv1.2``/``<=TLSv1.3`` (bounds, Postfix
  3.6+) or a plain list;
- ``smtpd_tls_ciphers``/``smtpd_tls_mandatory_ciphers`` (and ``smtp_``, ``lmtp_``): the
  grade (``high``, ``medium``, ``low``, ``export``, ``null``) is expanded through the
  ``tls_<grade>_cipherlist`` in force (Postfix's default unless this file sets it) less the
  matching ``*_exclude_ciphers``; the cipher lists themselves when set;
- ``smtpd_tls_dh1024_param_file`` (the prime is read), ``smtpd_tls_cert_file``,
  ``smtpd_tls_chain_files``, ``smtp_tls_cert_file`` (certificates read);
- when ``*_tls_security_level`` turns TLS on and the file leaves the protocols or the cipher
  grade unset, Postfix's defaults (``>=TLSv1``, ``medium``) as settings at that line, with
  ``details["default"]``: a file that says nothing still enables something.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cryptocheck.model import Asset, RunError
from cryptocheck.sources.config import settings
from cryptocheck.sources.config.settings import FileContext

# Postfix 3.x defaults (postconf(5)).
DEFAULT_CIPHERLISTS = {
    "high": "aNULL:-aNULL:HIGH:@STRENGTH",
    "medium": "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH",
    "low": "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH",
    "export": "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH",
    "null": "eNULL:!aNULL",
}
_POSTFIX_PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_PROTOCOL_PARAM = re.compile(r"^(smtpd|smtp|lmtp|tlsproxy)_tls_(mandatory_)?protocols$")
_CIPHER_PARAM = re.compile(r"^(smtpd|smtp|lmtp|tlsproxy)_tls_(mandatory_)?ciphers$")
_CERT_PARAMS = {"smtpd_tls_cert_file", "smtpd_tls_eccert_file", "smtpd_tls_dcert_file",
                "smtp_tls_cert_file", "smtpd_tls_chain_files", "smtp_tls_chain_files"}


def parameters(text: str) -> list[tuple[int, int, str, str]]:
    """(line, column, name, value) of each parameter, continuation lines joined."""
    out: list[tuple[int, int, str, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if raw[0] in " \t":
            if out:
                line, column, name, value = out[-1]
                out[-1] = (line, column, name, f"{value} {raw.strip()}".strip())
            continue
        name, sep, value = raw.partition("=")
        if sep:
            out.append((number, 1, name.strip(), value.strip()))
    return out


def protocol_list(value: str) -> list[str]:
    """What a Postfix protocols value enables."""
    items = [i for i in re.split(r"[\s,:]+", value) if i]
    if not items:
        return list(_POSTFIX_PROTOCOLS[2:])
    lo: str | None = None
    hi: str | None = None
    excluded: set[str] = set()
    included: list[str] = []
    for item in items:
        if item.startswith(">="):
            lo = settings.protocol_name(item[2:])
        elif item.startswith("<="):
            hi = settings.protocol_name(item[2:])
        elif item.startswith("!"):
            name = settings.protocol_name(item[1:])
            if name:
                excluded.add(name)
        elif (name := settings.protocol_name(item)) is not None:
            included.append(name)
    base = included or settings.protocol_range(lo, hi)
    if not included and lo is None:
        base = list(_POSTFIX_PROTOCOLS[1:]) if hi is None else settings.protocol_range(None, hi)
    return [p for p in base if p not in excluded]


def parse(ctx: FileContext, text: str) -> Iterator[Asset | RunError]:
    """The TLS settings of one main.cf."""
    params = parameters(text)
    values = {name: value for _, _, name, value in params}

    def resolve(value: str, depth: int = 0) -> str:
        if depth > 8:
            return value
        return re.sub(r"\$\{?(\w+)\}?", lambda m: resolve(values.get(m.group(1), ""), depth + 1),
                      value)

    for line, column, name, value in params:
        details: dict[str, Any] | None = None
        resolved = resolve(value)
        if _PROTOCOL_PARAM.match(name):
            details = settings.protocol_details(protocol_list(resolved))
        elif _CIPHER_PARAM.match(name):
            grade = resolved.strip().lower()
            cipherlist = resolve(values.get(f"tls_{grade}_cipherlist", DEFAULT_CIPHERLISTS.get(grade, "")))
            mandatory = "_mandatory_" in name
            prefix = name.split("_tls_")[0]
            exclude_key = f"{prefix}_tls_{'mandatory_' if mandatory else ''}exclude_ciphers"
            exclude = [e for e in re.split(r"[\s,:]+", resolve(values.get(exclude_key, ""))) if e]
            full = cipherlist + "".join(f":!{e}" for e in exclude)
            details = settings.cipher_details(full) if cipherlist else {"ignored": [value]}
            details["grade"] = grade
        elif re.match(r"^tls_(high|medium|low|export|null)_cipherlist$", name):
            details = settings.cipher_details(resolved)
        elif name in ("smtpd_tls_dh1024_param_file", "smtpd_tls_dh512_param_file") and resolved:
            yield from ctx.dh_param_setting(line, column, name, resolved, None)
            continue
        elif name in _CERT_PARAMS and resolved:
            for cert in re.split(r"[\s,]+", resolved):
                if cert:
                    yield from ctx.certificates(line, column, name, cert)
            continue
        if details is not None:
            yield ctx.setting(line, column, name, value, None, details)
    yield from _defaults(ctx, params, values, resolve)


# Postfix 3.6+ defaults (postconf(5)) for what TLS, once turned on, uses when not set.
DEFAULT_PROTOCOLS = ">=TLSv1"
DEFAULT_GRADE = "medium"
_TLS_ON = {"may", "encrypt", "dane", "dane-only", "fingerprint", "verify", "secure"}


def _defaults(ctx: FileContext, params: list[tuple[int, int, str, str]],
              values: dict[str, str], resolve: Any) -> Iterator[Asset | RunError]:
    """The protocols and ciphers Postfix uses on a side (smtpd, smtp) whose TLS this file
    turns on without choosing them: located at the ``*_tls_security_level`` line."""
    for line, column, name, value in params:
        side = name.removesuffix("_tls_security_level")
        if side == name or side not in ("smtpd", "smtp", "lmtp"):
            continue
        if resolve(value).strip().lower() not in _TLS_ON:
            continue
        if f"{side}_tls_protocols" not in values:
            yield ctx.setting(line, column, f"{side}_tls_protocols (default)", DEFAULT_PROTOCOLS,
                              None, {**settings.protocol_details(protocol_list(DEFAULT_PROTOCOLS)),
                                     "default": True})
        if f"{side}_tls_ciphers" not in values:
            cipherlist = resolve(values.get(f"tls_{DEFAULT_GRADE}_cipherlist",
                                            DEFAULT_CIPHERLISTS[DEFAULT_GRADE]))
            exclude = [e for e in re.split(r"[\s,:]+", resolve(values.get(
                f"{side}_tls_exclude_ciphers", ""))) if e]
            details = settings.cipher_details(cipherlist + "".join(f":!{e}" for e in exclude))
            details.update({"grade": DEFAULT_GRADE, "default": True})
            yield ctx.setting(line, column, f"{side}_tls_ciphers (default)", DEFAULT_GRADE, None,
                              details)

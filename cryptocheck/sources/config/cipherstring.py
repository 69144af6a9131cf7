"""OpenSSL's cipher-string language, implemented over the catalogue.

``ssl_ciphers ECDHE+AESGCM:!aNULL`` means what OpenSSL makes of it: which suites, in which
order. The answer must not depend on the OpenSSL of the machine running cryptocheck (it
may lack suites the server's OpenSSL has, such as 3DES or RC4), so this module re-implements
``ssl_create_cipher_list`` (OpenSSL 3.0 ssl/ssl_ciph.c) over
:mod:`cryptocheck.catalog.openssl_ciphers`:

- the starting list holds every suite by descending code (OpenSSL sorts its table by id
  and reads it backwards), then ordered by OpenSSL's default preference: ECDHE first,
  AES-GCM and ChaCha20 before other AES, MD5, anonymous, RSA key transport, PSK and RC4
  last; stable sort by strength; TLS 1.2 suites bumped; then (EC)DHE with AEAD > (EC)DHE >
  AEAD > the rest. All suites start inactive.
- a string starting with ``DEFAULT`` first applies ``ALL:!COMPLEMENTOFDEFAULT:!eNULL``.
- each element (separated by ``:``, ``,``, ``;`` or space) adds (no prefix), deletes
  (``-``), moves to the end (``+``) or kills (``!``) the suites selected by one name or by
  several joined with ``+`` (all must match); ``@STRENGTH`` sorts by strength,
  ``@SECLEVEL=n`` sets the security level. Unknown names are ignored, as OpenSSL does.

TLS 1.3 suites are configured separately (``Ciphersuites``) and are not selected here.

>>> [s.openssl for s in expand("ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA").suites]
['ECDHE-RSA-AES128-GCM-SHA256', 'AES256-SHA']
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptocheck.catalog.openssl_ciphers import (
    AUTH_BITS,
    DEFAULT_MASK,
    ENC_BITS,
    MAC_BITS,
    MKEY_BITS,
    STRONG_MASK,
    OpenSslSuite,
    aliases,
    by_openssl_name,
    openssl_suite,
    openssl_suites,
)

ADD, KILL, DEL, ORD, SPECIAL, BUMP = 1, 2, 3, 4, 5, 6
DEFAULT_CIPHER_LIST = "ALL:!COMPLEMENTOFDEFAULT:!eNULL"  # OSSL_default_cipher_list(), 3.0
DEFAULT_CIPHERSUITES = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"
_SEPARATORS = frozenset(":;, ")
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=")
# Security levels (ssl/ssl_cert.c ssl_security_default_callback): minimum strength bits.
_SECLEVEL_BITS = (0, 80, 112, 128, 192, 256)


@dataclass(frozen=True)
class Expansion:
    """What a cipher string selects: the suites in order, the security level it sets (None:
    not set), and the elements OpenSSL would ignore or reject (said, never silently lost)."""

    suites: tuple[OpenSslSuite, ...]
    security_level: int | None = None
    ignored: tuple[str, ...] = ()
    invalid: tuple[str, ...] = field(default=())

    @property
    def error(self) -> bool:
        """True when OpenSSL refuses the string: a bad command, or no suite selected."""
        return bool(self.invalid) or not self.suites

    def usable(self, level: int | None = None) -> tuple[OpenSslSuite, ...]:
        """The suites a handshake can still use at security ``level`` (the string's own, else
        OpenSSL's default 1): below the level's strength, RC4 from level 2 and suites without
        forward secrecy from level 3 are refused (ssl_security_default_callback)."""
        level = self.security_level if level is None else level
        if level is None:
            level = 1
        minimum = _SECLEVEL_BITS[min(max(level, 0), 5)]
        out = []
        for s in self.suites:
            if s.strength_bits < minimum:
                continue
            if level >= 2 and s.enc == "RC4":
                continue
            if level >= 3 and not s.tls13 and s.mkey not in ("kDHE", "kECDHE", "kDHEPSK", "kECDHEPSK"):
                continue
            out.append(s)
        return tuple(out)


class _List:
    """The ordered list of (suite, active) OpenSSL keeps while applying rules."""

    def __init__(self, suites: Sequence[OpenSslSuite], active: bool) -> None:
        self.order: list[OpenSslSuite] = list(suites)
        self.active: dict[str, bool] = {s.iana: active for s in suites}

    def apply(self, rule: int, cipher: str | None = None, mkey: int = 0, auth: int = 0,
              enc: int = 0, mac: int = 0, min_tls: int = 0, strength: int = 0,
              strength_bits: int = -1) -> None:
        reverse = rule in (DEL, BUMP)
        walk = list(reversed(self.order)) if reverse else list(self.order)
        for s in walk:
            if strength_bits >= 0:
                if s.strength_bits != strength_bits:
                    continue
            else:
                m_mkey, m_auth, m_enc, m_mac, m_tls, m_strength = s.masks
                if cipher is not None and cipher != s.iana:
                    continue
                if mkey and not mkey & m_mkey:
                    continue
                if auth and not auth & m_auth:
                    continue
                if enc and not enc & m_enc:
                    continue
                if mac and not mac & m_mac:
                    continue
                if min_tls and min_tls != m_tls:
                    continue
                if strength & STRONG_MASK and not strength & STRONG_MASK & m_strength:
                    continue
                if strength & DEFAULT_MASK and not strength & DEFAULT_MASK & m_strength:
                    continue
            is_active = self.active[s.iana]
            if rule == ADD:
                if not is_active:
                    self._to_tail(s)
                    self.active[s.iana] = True
            elif rule == ORD:
                if is_active:
                    self._to_tail(s)
            elif rule == DEL:
                if is_active:
                    self._to_head(s)
                    self.active[s.iana] = False
            elif rule == BUMP:
                if is_active:
                    self._to_head(s)
            elif rule == KILL:
                self.order.remove(s)
                del self.active[s.iana]

    def _to_tail(self, s: OpenSslSuite) -> None:
        self.order.remove(s)
        self.order.append(s)

    def _to_head(self, s: OpenSslSuite) -> None:
        self.order.remove(s)
        self.order.insert(0, s)

    def strength_sort(self) -> None:
        """ssl_cipher_strength_sort: active suites by descending strength bits, stable."""
        used = sorted({s.strength_bits for s in self.order if self.active[s.iana]}, reverse=True)
        for bits in used:
            self.apply(ORD, strength_bits=bits)

    def selected(self) -> tuple[OpenSslSuite, ...]:
        return tuple(s for s in self.order if self.active[s.iana])


_E, _H, _M, _A = ENC_BITS, MAC_BITS, MKEY_BITS, AUTH_BITS
_AES = sum(v for k, v in ENC_BITS.items() if k.startswith("AES"))


@functools.lru_cache(maxsize=1)
def _start_order() -> tuple[OpenSslSuite, ...]:
    """OpenSSL's starting preference order of every pre-TLS 1.3 suite (all inactive)."""
    suites = [s for s in reversed(openssl_suites()) if not s.tls13]
    lst = _List(suites, active=False)
    lst.apply(ADD, mkey=_M["kECDHE"], auth=_A["aECDSA"])
    lst.apply(ADD, mkey=_M["kECDHE"])
    lst.apply(DEL, mkey=_M["kECDHE"])
    lst.apply(ADD, enc=_E["AES128GCM"] | _E["AES256GCM"])
    lst.apply(ADD, enc=_E["CHACHA20POLY1305"])
    lst.apply(ADD, enc=_AES ^ (_E["AES128GCM"] | _E["AES256GCM"]))
    lst.apply(ADD)
    lst.apply(ORD, mac=_H["MD5"])
    lst.apply(ORD, auth=_A["aNULL"])
    lst.apply(ORD, mkey=_M["kRSA"])
    lst.apply(ORD, mkey=_M["kPSK"])
    lst.apply(ORD, enc=_E["RC4"])
    lst.strength_sort()
    lst.apply(BUMP, min_tls=0x303)
    lst.apply(BUMP, mac=_H["AEAD"])
    lst.apply(BUMP, mkey=_M["kDHE"] | _M["kECDHE"])
    lst.apply(BUMP, mkey=_M["kDHE"] | _M["kECDHE"], mac=_H["AEAD"])
    lst.apply(DEL)
    return tuple(lst.order)


def _process(rules: str, lst: _List, ignored: list[str], invalid: list[str]) -> int | None:
    """ssl_cipher_process_rulestr: apply each element of ``rules`` to ``lst``; returns the
    security level an ``@SECLEVEL=n`` set (the last one), or None."""
    level: int | None = None
    table = aliases()
    i, n = 0, len(rules)
    while i < n:
        ch = rules[i]
        if ch in _SEPARATORS:
            i += 1
            continue
        rule = {"-": DEL, "+": ORD, "!": KILL, "@": SPECIAL}.get(ch, ADD)
        if rule != ADD:
            i += 1
        start = i
        found = True
        cipher: str | None = None
        mkey = auth = enc = mac = min_tls = strength = 0
        word = ""
        while True:
            j = i
            while i < n and rules[i] in _NAME_CHARS:
                i += 1
            word = rules[j:i]
            if not word:
                # Something that is neither a name, a separator nor an operator: OpenSSL
                # rejects the whole string.
                bad = rules[start:].split(":")[0] or rules[i:i + 1]
                invalid.append(bad)
                return level
            if rule == SPECIAL:
                break
            multi = i < n and rules[i] == "+"
            if multi:
                i += 1
            # OpenSSL 3.0 matches its own names only (IANA names are ignored).
            suite = by_openssl_name(word)
            selector = table.get(word)
            if suite is not None and not suite.tls13:
                s_mkey, s_auth, s_enc, s_mac, _tls, s_strength = suite.masks
                cipher = suite.iana
            elif selector is not None:
                s_mkey, s_auth, s_enc, s_mac = selector.mkey, selector.auth, selector.enc, selector.mac
                s_strength = selector.strength
            else:
                found = False
                break
            if s_mkey:
                mkey = mkey & s_mkey if mkey else s_mkey
                if not mkey:
                    found = False
                    break
            if s_auth:
                auth = auth & s_auth if auth else s_auth
                if not auth:
                    found = False
                    break
            if s_enc:
                enc = enc & s_enc if enc else s_enc
                if not enc:
                    found = False
                    break
            if s_mac:
                mac = mac & s_mac if mac else s_mac
                if not mac:
                    found = False
                    break
            if s_strength & STRONG_MASK:
                if strength & STRONG_MASK:
                    strength &= (s_strength & STRONG_MASK) | ~STRONG_MASK
                    if not strength & STRONG_MASK:
                        found = False
                        break
                else:
                    strength = s_strength & STRONG_MASK
            if s_strength & DEFAULT_MASK:
                if strength & DEFAULT_MASK:
                    strength &= (s_strength & DEFAULT_MASK) | ~DEFAULT_MASK
                    if not strength & DEFAULT_MASK:
                        found = False
                        break
                else:
                    strength |= s_strength & DEFAULT_MASK
            if selector is not None and suite is None and selector.min_tls:
                if min_tls and min_tls != selector.min_tls:
                    found = False
                    break
                min_tls = selector.min_tls
            if not multi:
                break
        if rule == SPECIAL:
            if word == "STRENGTH":
                lst.strength_sort()
            elif len(word) == 10 and word.startswith("SECLEVEL=") and word[9].isdigit() \
                    and int(word[9]) <= 5:
                level = int(word[9])
            else:
                invalid.append("@" + word)
            while i < n and rules[i] not in _SEPARATORS:
                i += 1
        elif found:
            lst.apply(rule, cipher, mkey, auth, enc, mac, min_tls, strength)
        else:
            j = i
            while i < n and rules[i] not in _SEPARATORS:
                i += 1
            ignored.append(rules[start:i] if rule == ADD else rules[start - 1:i])
            del j
    return level


@functools.lru_cache(maxsize=4096)
def expand(cipher_string: str) -> Expansion:
    """The suites ``cipher_string`` selects, in OpenSSL's order (TLS 1.3 excluded).

    Why: a configuration names suites through this language; what is judged must be what
    OpenSSL will offer, not what the words look like.

    >>> len(expand("HIGH:!aNULL").suites) > 50
    True
    """
    lst = _List(_start_order(), active=False)
    ignored: list[str] = []
    invalid: list[str] = []
    level: int | None = None
    rest = cipher_string
    if rest.startswith("DEFAULT"):
        level = _process(DEFAULT_CIPHER_LIST, lst, ignored, invalid)
        rest = rest[7:]
        rest = rest.removeprefix(":")
    sub = _process(rest, lst, ignored, invalid)
    if sub is not None:
        level = sub
    return Expansion(lst.selected(), level, tuple(ignored), tuple(invalid))


def tls13_suites(ciphersuites: str) -> tuple[tuple[OpenSslSuite, ...], tuple[str, ...]]:
    """The TLS 1.3 suites of an OpenSSL ``Ciphersuites`` value (colon-separated IANA names,
    in order) and the names that are not TLS 1.3 suites (OpenSSL refuses those)."""
    out: list[OpenSslSuite] = []
    unknown: list[str] = []
    for name in ciphersuites.split(":"):
        name = name.strip()
        if not name:
            continue
        suite = openssl_suite(name)
        if suite is None or not suite.tls13:
            unknown.append(name)
        elif suite not in out:
            out.append(suite)
    return tuple(out), tuple(unknown)

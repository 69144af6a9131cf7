"""OpenSSL's own view of the TLS cipher suites: what its cipher-string language matches on.

OpenSSL decides which suites a string such as ``ECDHE+AESGCM:!aNULL`` selects from a few
bit masks kept per suite in its ``ssl3_ciphers`` table (ssl/s3_lib.c): key exchange,
authentication, bulk encryption, MAC, a strength class (``LOW``/``MEDIUM``/``HIGH``),
``FIPS``, ``NOT_DEFAULT`` (the suites ``COMPLEMENTOFDEFAULT`` names), the minimum protocol
and the strength in bits. Those attributes are OpenSSL's, not IANA's, so they live here,
keyed by the IANA name, in ``data/openssl-ciphers.toml``; the alias table is OpenSSL's
``cipher_aliases`` (ssl/ssl_ciph.c). Bit values are internal to this module: the data file
names every flag.

Source: OpenSSL 3.0 ssl/s3_lib.c and ssl/ssl_ciph.c; the data file was generated from the
table compiled into libssl 3.0 by ``tests/fixtures/config/make_openssl_ciphers.py``, plus
the suites Debian's build leaves out (3DES and RC4 need ``enable-weak-ssl-ciphers``; IDEA
and SEED the legacy provider), copied from ssl/s3_lib.c.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from cryptocheck.catalog import tls as tls_catalog

# Bit masks of struct ssl_cipher_st (ssl/ssl_local.h, OpenSSL 3.0).
MKEY_BITS = {
    "kRSA": 0x1, "kDHE": 0x2, "kECDHE": 0x4, "kPSK": 0x8, "kGOST": 0x10, "kSRP": 0x20,
    "kRSAPSK": 0x40, "kECDHEPSK": 0x80, "kDHEPSK": 0x100, "kGOST18": 0x200,
}
AUTH_BITS = {
    "aRSA": 0x1, "aDSS": 0x2, "aNULL": 0x4, "aECDSA": 0x8, "aPSK": 0x10, "aGOST01": 0x20,
    "aSRP": 0x40, "aGOST12": 0x80,
}
ENC_BITS = {
    "DES": 0x1, "3DES": 0x2, "RC4": 0x4, "RC2": 0x8, "IDEA": 0x10, "eNULL": 0x20,
    "AES128": 0x40, "AES256": 0x80, "CAMELLIA128": 0x100, "CAMELLIA256": 0x200,
    "eGOST2814789CNT": 0x400, "SEED": 0x800, "AES128GCM": 0x1000, "AES256GCM": 0x2000,
    "AES128CCM": 0x4000, "AES256CCM": 0x8000, "AES128CCM8": 0x10000, "AES256CCM8": 0x20000,
    "eGOST2814789CNT12": 0x40000, "CHACHA20POLY1305": 0x80000, "ARIA128GCM": 0x100000,
    "ARIA256GCM": 0x200000, "MAGMA": 0x400000, "KUZNYECHIK": 0x800000,
}
MAC_BITS = {
    "MD5": 0x1, "SHA1": 0x2, "GOST94": 0x4, "GOST89MAC": 0x8, "SHA256": 0x10, "SHA384": 0x20,
    "AEAD": 0x40, "GOST12_256": 0x80, "GOST89MAC12": 0x100, "GOST12_512": 0x200,
}
STRENGTH_BITS = {"STRONG_NONE": 0x1, "LOW": 0x2, "MEDIUM": 0x4, "HIGH": 0x8, "FIPS": 0x10}
STRONG_MASK = 0x1F
NOT_DEFAULT = 0x20
DEFAULT_MASK = 0x20

PROTOCOL_VERSIONS = tls_catalog.PROTOCOL_VERSIONS  # the one table: catalog/data/protocols.toml

_M = MKEY_BITS
_A = AUTH_BITS
_E = ENC_BITS
_H = MAC_BITS
_ALL = 0xFFFFFFFF
_PSK = _M["kPSK"] | _M["kRSAPSK"] | _M["kECDHEPSK"] | _M["kDHEPSK"]
_AES = (_E["AES128"] | _E["AES256"] | _E["AES128GCM"] | _E["AES256GCM"] | _E["AES128CCM"]
        | _E["AES256CCM"] | _E["AES128CCM8"] | _E["AES256CCM8"])


@dataclass(frozen=True, slots=True)
class Selector:
    """One entry of OpenSSL's alias table: the masks a name selects on (0 = any)."""

    name: str
    mkey: int = 0
    auth: int = 0
    enc: int = 0
    mac: int = 0
    min_tls: int = 0
    strength: int = 0


# cipher_aliases of ssl/ssl_ciph.c (OpenSSL 3.0), in its order.
ALIASES: tuple[Selector, ...] = (
    Selector("ALL", enc=_ALL & ~_E["eNULL"]),
    Selector("COMPLEMENTOFALL", enc=_E["eNULL"]),
    Selector("COMPLEMENTOFDEFAULT", strength=NOT_DEFAULT),
    Selector("kRSA", mkey=_M["kRSA"]),
    Selector("kEDH", mkey=_M["kDHE"]),
    Selector("kDHE", mkey=_M["kDHE"]),
    Selector("DH", mkey=_M["kDHE"]),
    Selector("kEECDH", mkey=_M["kECDHE"]),
    Selector("kECDHE", mkey=_M["kECDHE"]),
    Selector("ECDH", mkey=_M["kECDHE"]),
    Selector("kPSK", mkey=_M["kPSK"]),
    Selector("kRSAPSK", mkey=_M["kRSAPSK"]),
    Selector("kECDHEPSK", mkey=_M["kECDHEPSK"]),
    Selector("kDHEPSK", mkey=_M["kDHEPSK"]),
    Selector("kSRP", mkey=_M["kSRP"]),
    Selector("kGOST", mkey=_M["kGOST"]),
    Selector("kGOST18", mkey=_M["kGOST18"]),
    Selector("aRSA", auth=_A["aRSA"]),
    Selector("aDSS", auth=_A["aDSS"]),
    Selector("DSS", auth=_A["aDSS"]),
    Selector("aNULL", auth=_A["aNULL"]),
    Selector("aECDSA", auth=_A["aECDSA"]),
    Selector("ECDSA", auth=_A["aECDSA"]),
    Selector("aPSK", auth=_A["aPSK"]),
    Selector("aGOST01", auth=_A["aGOST01"]),
    Selector("aGOST12", auth=_A["aGOST12"]),
    Selector("aGOST", auth=_A["aGOST01"] | _A["aGOST12"]),
    Selector("aSRP", auth=_A["aSRP"]),
    Selector("EDH", mkey=_M["kDHE"], auth=_ALL & ~_A["aNULL"]),
    Selector("DHE", mkey=_M["kDHE"], auth=_ALL & ~_A["aNULL"]),
    Selector("EECDH", mkey=_M["kECDHE"], auth=_ALL & ~_A["aNULL"]),
    Selector("ECDHE", mkey=_M["kECDHE"], auth=_ALL & ~_A["aNULL"]),
    Selector("NULL", enc=_E["eNULL"]),
    Selector("RSA", mkey=_M["kRSA"], auth=_A["aRSA"]),
    Selector("ADH", mkey=_M["kDHE"], auth=_A["aNULL"]),
    Selector("AECDH", mkey=_M["kECDHE"], auth=_A["aNULL"]),
    Selector("PSK", mkey=_PSK),
    Selector("SRP", mkey=_M["kSRP"]),
    Selector("3DES", enc=_E["3DES"]),
    Selector("RC4", enc=_E["RC4"]),
    Selector("RC2", enc=_E["RC2"]),
    Selector("IDEA", enc=_E["IDEA"]),
    Selector("SEED", enc=_E["SEED"]),
    Selector("eNULL", enc=_E["eNULL"]),
    Selector("GOST89", enc=_E["eGOST2814789CNT"] | _E["eGOST2814789CNT12"]),
    Selector("AES128", enc=_E["AES128"] | _E["AES128GCM"] | _E["AES128CCM"] | _E["AES128CCM8"]),
    Selector("AES256", enc=_E["AES256"] | _E["AES256GCM"] | _E["AES256CCM"] | _E["AES256CCM8"]),
    Selector("AES", enc=_AES),
    Selector("AESGCM", enc=_E["AES128GCM"] | _E["AES256GCM"]),
    Selector("AESCCM", enc=_E["AES128CCM"] | _E["AES256CCM"] | _E["AES128CCM8"] | _E["AES256CCM8"]),
    Selector("AESCCM8", enc=_E["AES128CCM8"] | _E["AES256CCM8"]),
    Selector("CAMELLIA128", enc=_E["CAMELLIA128"]),
    Selector("CAMELLIA256", enc=_E["CAMELLIA256"]),
    Selector("CAMELLIA", enc=_E["CAMELLIA128"] | _E["CAMELLIA256"]),
    Selector("CHACHA20", enc=_E["CHACHA20POLY1305"]),
    Selector("GOST2012-GOST8912-GOST8912", enc=_E["eGOST2814789CNT12"]),
    Selector("ARIA", enc=_E["ARIA128GCM"] | _E["ARIA256GCM"]),
    Selector("ARIAGCM", enc=_E["ARIA128GCM"] | _E["ARIA256GCM"]),
    Selector("ARIA128", enc=_E["ARIA128GCM"]),
    Selector("ARIA256", enc=_E["ARIA256GCM"]),
    Selector("CBC", enc=_E["DES"] | _E["3DES"] | _E["RC2"] | _E["IDEA"] | _E["AES128"]
             | _E["AES256"] | _E["CAMELLIA128"] | _E["CAMELLIA256"] | _E["SEED"]),
    Selector("MD5", mac=_H["MD5"]),
    Selector("SHA1", mac=_H["SHA1"]),
    Selector("SHA", mac=_H["SHA1"]),
    Selector("GOST94", mac=_H["GOST94"]),
    Selector("GOST89MAC", mac=_H["GOST89MAC"] | _H["GOST89MAC12"]),
    Selector("SHA256", mac=_H["SHA256"]),
    Selector("SHA384", mac=_H["SHA384"]),
    Selector("GOST12", mac=_H["GOST12_256"]),
    Selector("SSLv3", min_tls=0x300),
    Selector("TLSv1", min_tls=0x301),
    Selector("TLSv1.0", min_tls=0x301),
    Selector("TLSv1.2", min_tls=0x303),
    Selector("LOW", strength=STRENGTH_BITS["LOW"]),
    Selector("MEDIUM", strength=STRENGTH_BITS["MEDIUM"]),
    Selector("HIGH", strength=STRENGTH_BITS["HIGH"]),
    Selector("FIPS", enc=_ALL & ~_E["eNULL"], strength=STRENGTH_BITS["FIPS"]),
    Selector("EDH-DSS-DES-CBC3-SHA", mkey=_M["kDHE"], auth=_A["aDSS"], enc=_E["3DES"],
             mac=_H["SHA1"], strength=STRENGTH_BITS["HIGH"] | STRENGTH_BITS["FIPS"]),
    Selector("EDH-RSA-DES-CBC3-SHA", mkey=_M["kDHE"], auth=_A["aRSA"], enc=_E["3DES"],
             mac=_H["SHA1"], strength=STRENGTH_BITS["HIGH"] | STRENGTH_BITS["FIPS"]),
)


@dataclass(frozen=True, slots=True)
class OpenSslSuite:
    """One suite as OpenSSL's table describes it (names and flags as in ssl/s3_lib.c)."""

    iana: str
    openssl: str
    code: int
    mkey: str
    auth: str
    enc: str
    mac: str
    min_tls: str
    max_tls: str
    strength: str  # STRONG_NONE, LOW, MEDIUM, HIGH
    fips: bool
    not_default: bool
    strength_bits: int
    alg_bits: int
    source: str = "libssl"

    @property
    def tls13(self) -> bool:
        return self.min_tls == "TLSv1.3"

    @property
    def masks(self) -> tuple[int, int, int, int, int, int]:
        """(mkey, auth, enc, mac, min_tls, algo_strength) as OpenSSL's bit masks."""
        return _masks(self)


@functools.cache
def _masks(s: OpenSslSuite) -> tuple[int, int, int, int, int, int]:
    strength = STRENGTH_BITS[s.strength] | (STRENGTH_BITS["FIPS"] if s.fips else 0)
    strength |= NOT_DEFAULT if s.not_default else 0
    return (MKEY_BITS.get(s.mkey, 0), AUTH_BITS.get(s.auth, 0), ENC_BITS[s.enc],
            MAC_BITS[s.mac], PROTOCOL_VERSIONS[s.min_tls], strength)


@functools.lru_cache(maxsize=1)
def openssl_suites() -> tuple[OpenSslSuite, ...]:
    """Every suite any OpenSSL 3.x can be built with, ordered by code (TLS 1.3 included)."""
    from cryptocheck.catalog import data_toml

    data = data_toml("openssl-ciphers.toml")
    suites = [OpenSslSuite(**row) for row in data["suite"]]
    return tuple(sorted(suites, key=lambda s: s.code))


@functools.lru_cache(maxsize=1)
def _by_name() -> dict[str, OpenSslSuite]:
    out: dict[str, OpenSslSuite] = {}
    for s in openssl_suites():
        out[s.openssl] = s
        out[s.iana] = s
    return out


@functools.lru_cache(maxsize=1)
def _by_openssl_name() -> dict[str, OpenSslSuite]:
    return {s.openssl: s for s in openssl_suites()}


def by_openssl_name(name: str) -> OpenSslSuite | None:
    """The suite whose OpenSSL name is ``name`` (what OpenSSL 3.0 cipher strings accept)."""
    return _by_openssl_name().get(name)


def openssl_suite(name: str) -> OpenSslSuite | None:
    """The suite OpenSSL calls ``name`` (its own name or the IANA name), or None."""
    return _by_name().get(name)


@functools.lru_cache(maxsize=1)
def aliases() -> dict[str, Selector]:
    """Alias name -> selector (OpenSSL's ``cipher_aliases``)."""
    return {a.name: a for a in ALIASES}

"""A tiny, strict DER reader: enough to classify structures and pull out a few fields.

Why not lean on ``cryptography`` for everything: it refuses whole certificates whose key it
cannot load (ML-DSA, unknown OIDs) and it re-encodes what it returns, while fingerprints
must be of the bytes as found. Every function here raises :class:`DerError` (never anything
else) on input it does not understand, so callers can turn it into one ``RunError``.
"""

from __future__ import annotations

from dataclasses import dataclass

# Universal tags we look at.
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
SEQUENCE = 0x30
SET = 0x31

_MAX_DEPTH = 32


class DerError(ValueError):
    """The bytes are not the DER structure expected."""


@dataclass(frozen=True, slots=True)
class Tlv:
    """One DER element: its tag byte, the value bytes and the whole encoding."""

    tag: int
    value: bytes
    raw: bytes

    @property
    def constructed(self) -> bool:
        return bool(self.tag & 0x20)

    def children(self) -> list[Tlv]:
        """The elements inside a constructed element."""
        if not self.constructed:
            raise DerError("primitive element has no children")
        return read_all(self.value)


def read_tlv(data: bytes, offset: int = 0) -> tuple[Tlv, int]:
    """The element starting at ``offset`` and the offset just after it."""
    if offset + 2 > len(data):
        raise DerError("truncated element header")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte tags are not used by the structures we read")
    first = data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise DerError("indefinite or oversized length")
        if pos + count > len(data):
            raise DerError("truncated length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise DerError("element runs past the end of the data")
    return Tlv(tag, bytes(data[pos:end]), bytes(data[offset:end])), end


def read_one(data: bytes) -> Tlv:
    """The single element that makes up ``data`` (trailing bytes are an error)."""
    tlv, end = read_tlv(data, 0)
    if end != len(data):
        raise DerError("trailing data after the element")
    return tlv


def read_all(data: bytes) -> list[Tlv]:
    """Every element of a concatenation (the content of a SEQUENCE)."""
    items: list[Tlv] = []
    pos = 0
    while pos < len(data):
        tlv, pos = read_tlv(data, pos)
        items.append(tlv)
    return items


def decode_oid(tlv: Tlv) -> str:
    """The dotted form of an OBJECT IDENTIFIER element."""
    if tlv.tag != OID or not tlv.value:
        raise DerError("expected an OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    for byte in tlv.value:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if tlv.value[-1] & 0x80:
        raise DerError("truncated OBJECT IDENTIFIER")
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


def decode_int(tlv: Tlv) -> int:
    """The value of an INTEGER element."""
    if tlv.tag != INTEGER or not tlv.value:
        raise DerError("expected an INTEGER")
    return int.from_bytes(tlv.value, "big", signed=True)


def int_bits(tlv: Tlv) -> int:
    """Bit length of a (non-negative) INTEGER: a modulus or prime size."""
    return abs(decode_int(tlv)).bit_length()


@dataclass(frozen=True, slots=True)
class AlgorithmIdentifier:
    """An AlgorithmIdentifier: dotted OID and the raw parameters element, if any."""

    oid: str
    parameters: Tlv | None


def algorithm_identifier(tlv: Tlv) -> AlgorithmIdentifier:
    """Parse ``SEQUENCE { OID, parameters OPTIONAL }``."""
    if tlv.tag != SEQUENCE:
        raise DerError("expected an AlgorithmIdentifier SEQUENCE")
    parts = tlv.children()
    if not parts:
        raise DerError("empty AlgorithmIdentifier")
    params = parts[1] if len(parts) > 1 else None
    return AlgorithmIdentifier(decode_oid(parts[0]), params)


def encode(tag: int, value: bytes) -> bytes:
    """The DER encoding of one element (definite length)."""
    length = len(value)
    if length < 0x80:
        return bytes((tag, length)) + value
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(octets))) + octets + value


def certificate_spki(cert_der: bytes) -> bytes:
    """The SubjectPublicKeyInfo element of a certificate, exactly as encoded."""
    cert = read_tlv(cert_der)[0]
    if cert.tag != SEQUENCE:
        raise DerError("certificate is not a SEQUENCE")
    tbs = cert.children()[0]
    fields = tbs.children()
    if fields and fields[0].tag == 0xA0:  # explicit [0] version
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    if len(fields) < 6:
        raise DerError("TBSCertificate is too short")
    return fields[5].raw


def certificate_signature_algorithm(cert_der: bytes) -> AlgorithmIdentifier:
    """The outer signatureAlgorithm of a certificate."""
    parts = read_tlv(cert_der)[0].children()
    if len(parts) < 3:
        raise DerError("certificate is too short")
    return algorithm_identifier(parts[1])


def classify(data: bytes) -> str | None:
    """Name the DER structure ``data`` holds, from its shape alone.

    Returns one of ``certificate``, ``pkcs7``, ``pkcs12``, ``spki``, ``pkcs8``,
    ``encrypted-pkcs8``, ``pkcs1-private``, ``sec1``, ``dsa-private``, ``pkcs1-public``,
    or None when the bytes are DER of nothing we know (or not DER at all).
    """
    try:
        top = read_tlv(data)[0]
        if top.tag != SEQUENCE:
            return None
        parts = top.children()
    except DerError:
        return None
    tags = [p.tag for p in parts]
    try:
        if tags[:1] == [OID] and decode_oid(parts[0]) in ("1.2.840.113549.1.7.2",):
            return "pkcs7"
        if tags[:2] == [INTEGER, SEQUENCE] and decode_int(parts[0]) == 3:
            inner = parts[1].children()
            if inner and inner[0].tag == OID and decode_oid(inner[0]).startswith(
                    "1.2.840.113549.1.7."):
                return "pkcs12"
        if tags[:3] == [SEQUENCE, SEQUENCE, BIT_STRING] and len(parts) == 3:
            return "certificate"
        if tags == [SEQUENCE, BIT_STRING]:
            return "spki"
        if tags == [SEQUENCE, OCTET_STRING]:
            return "encrypted-pkcs8"
        if tags[:3] == [INTEGER, SEQUENCE, OCTET_STRING]:
            return "pkcs8"
        if tags[:2] == [INTEGER, OCTET_STRING] and decode_int(parts[0]) == 1:
            return "sec1"
        if tags == [INTEGER] * 9:
            return "pkcs1-private"
        if tags == [INTEGER] * 6:
            return "dsa-private"
        if tags == [INTEGER, INTEGER]:
            return "pkcs1-public"
    except DerError:
        return None
    return None

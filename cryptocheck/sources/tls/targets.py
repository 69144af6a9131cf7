"""TLS scan targets as users write them: ``host``, ``host:port``, ``[v6]:port``, URLs
(``https://``, ``smtps://``; STARTTLS as ``smtp://``, ``imap://``, ``pop3://``, ``ftp://``,
``ldap://``, ``xmpp://``, ``postgres://``), and CIDR ranges (with the ports given)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

# scheme -> (default port, service spoken before TLS: "tls" for direct TLS)
SCHEMES = {
    "https": (443, "tls"), "tls": (443, "tls"), "smtps": (465, "tls"), "imaps": (993, "tls"),
    "pop3s": (995, "tls"), "ldaps": (636, "tls"), "ftps": (990, "tls"), "xmpps": (5223, "tls"),
    "smtp": (25, "smtp"), "submission": (587, "smtp"), "imap": (143, "imap"),
    "pop3": (110, "pop3"), "ftp": (21, "ftp"), "ldap": (389, "ldap"), "xmpp": (5222, "xmpp"),
    "postgres": (5432, "postgres"), "postgresql": (5432, "postgres"),
}
MAX_RANGE = 65536


class TargetError(ValueError):
    """A target that cannot be understood (reported as one error record)."""


@dataclass(frozen=True)
class Target:
    """One endpoint to scan: ``host`` as written (brackets removed), port, and service."""

    text: str
    host: str
    port: int
    service: str
    sni: str | None

    @property
    def id(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        base = f"tls:{host}:{self.port}"
        return base if not self.sni or self.sni == self.host else f"{base}#{self.sni}"


def _host_port(text: str, default_port: int) -> tuple[str, int]:
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise TargetError(f"{text!r}: unclosed '['")
        host, rest = text[1:end], text[end + 1:]
        if rest and not rest.startswith(":"):
            raise TargetError(f"{text!r}: unexpected text after ']'")
        port_text = rest[1:] if rest else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""  # a bare IPv6 address has several colons
    if not host:
        raise TargetError(f"{text!r}: no host")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise TargetError(f"{text!r}: bad port {port_text!r}")
    return host, int(port_text)


def parse_target(text: str, sni: str | None = None, ports: Sequence[int] = (443,)
                 ) -> Iterator[Target]:
    """The endpoints one target names (several for a CIDR range: hosts x ports).

    >>> [t.id for t in parse_target("smtp://mail.example.org")]
    ['tls:mail.example.org:25']
    """
    text = original = text.strip()
    service = "tls"
    default_port = ports[0] if ports else 443
    if "://" in text:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            raise TargetError(f"{text!r}: unknown scheme {scheme!r}")
        default_port, service = SCHEMES[scheme]
        text = parts.netloc.rsplit("@", 1)[-1]
    if "/" in text and "://" not in text:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise TargetError(f"{text!r}: not a CIDR range") from None
        if network.num_addresses > MAX_RANGE:
            raise TargetError(f"{text!r}: more than {MAX_RANGE} addresses")
        hosts = list(network.hosts()) or [network.network_address]
        for address in hosts:
            for port in ports or (443,):
                yield Target(text=f"{address}:{port}", host=str(address), port=port,
                             service=service, sni=sni)
        return
    host, port = _host_port(text, 0)
    if port:
        yield Target(text=text, host=host, port=port, service=service,
                     sni=sni or _sni_for(host))
        return
    # No port written: the scheme's port for a URL, else every --ports port.
    for port in ((default_port,) if service != "tls" or "://" in original else ports or (443,)):
        yield Target(text=f"{text}:{port}" if len(ports) > 1 else text, host=host, port=port,
                     service=service, sni=sni or _sni_for(host))


def _sni_for(host: str) -> str | None:
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        return host


def read_targets_file(path: str) -> list[str]:
    """Targets from a file: one a line; blank lines and ``#`` comments ignored."""
    with open(path, encoding="utf-8") as handle:
        lines = [line.split("#", 1)[0].strip() for line in handle]
    return [line for line in lines if line]

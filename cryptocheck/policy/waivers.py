"""Waiver files: accepted exceptions with an owner, a reason and an expiry date.

```toml
[[waiver]]
id = "W-2026-001"
owner = "pki-team@example.org"
reason = "Legacy HSM cannot hold RSA-3072 keys; replacement ordered (CHG-1234)"
expires = 2027-03-31
[waiver.match]          # every selector given must hold; at least one is required
rule = "NHS-SIG-*"      # rule id (glob)
sha256 = "..."          # certificate SHA-256 (DER)
path = "legacy/*.pem"   # location path (glob)
subject = "CN=old*"     # certificate subject (glob, RFC 4514)
asset = "cert-..."      # asset id
```
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptocheck.model import Waiver
from cryptocheck.policy.loader import PolicyError

WAIVER_KEYS = {"id", "owner", "reason", "expires", "match"}
MATCH_KEYS = {"rule", "sha256", "path", "subject", "asset"}


def load_waivers(path: str | Path) -> tuple[Waiver, ...]:
    """Read a waiver file; any error refuses the whole file with file and line.

    Why: a waiver silently dropped fails a build; one silently widened hides a finding.
    """
    name = str(path)
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(name, None, f"cannot read waiver file: {exc}") from None
    import tomllib  # on use: most runs have no waiver file

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise PolicyError(name, int(found.group(1)) if found else None, f"TOML syntax: {exc}") from None
    headers = [n for n, line in enumerate(text.splitlines(), 1) if re.match(r"\s*\[\[\s*waiver\s*\]\]", line)]
    extra = set(data) - {"waiver"}
    if extra:
        raise PolicyError(name, None, f"unknown top-level key(s): {', '.join(sorted(extra))}")
    raw = data.get("waiver", [])
    if not isinstance(raw, list):
        raise PolicyError(name, None, "'waiver' must be [[waiver]] tables")
    out: list[Waiver] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        line = headers[index] if index < len(headers) else None
        out.append(_waiver(item, name, line))
        if out[-1].id in seen:
            raise PolicyError(name, line, f"duplicate waiver id {out[-1].id!r}")
        seen.add(out[-1].id)
    return tuple(out)


def _waiver(item: Any, name: str, line: int | None) -> Waiver:
    if not isinstance(item, dict):
        raise PolicyError(name, line, "each [[waiver]] must be a table")
    unknown = set(item) - WAIVER_KEYS
    if unknown:
        raise PolicyError(name, line, f"unknown waiver key(s): {', '.join(sorted(unknown))}")
    for key in ("id", "owner", "reason"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            raise PolicyError(name, line, f"waiver needs a non-empty {key!r}")
    expires = item.get("expires")
    if isinstance(expires, datetime):
        expires = expires.date()
    if not isinstance(expires, date):
        raise PolicyError(name, line, f"waiver {item['id']}: 'expires' must be a TOML date (YYYY-MM-DD)")
    match = item.get("match", {})
    if not isinstance(match, dict) or not match:
        raise PolicyError(name, line, f"waiver {item['id']}: needs a [waiver.match] with at least one selector")
    unknown = set(match) - MATCH_KEYS
    if unknown:
        raise PolicyError(name, line, f"waiver {item['id']}: unknown selector(s): {', '.join(sorted(unknown))}")
    if not all(isinstance(v, str) and v for v in match.values()):
        raise PolicyError(name, line, f"waiver {item['id']}: selectors must be non-empty strings")
    sha256 = match.get("sha256")
    if sha256 is not None:
        # As `openssl x509 -fingerprint -sha256` prints it (colons, capitals) or plain.
        sha256 = sha256.replace(":", "").strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise PolicyError(name, line, f"waiver {item['id']}: 'sha256' must be the 64 hex "
                              "digits of a SHA-256 (colons allowed)")
    return Waiver(
        id=item["id"], owner=item["owner"], reason=item["reason"], expires=expires,
        rule=match.get("rule"), asset=match.get("asset"), sha256=sha256,
        path=match.get("path"), subject=match.get("subject"),
    )

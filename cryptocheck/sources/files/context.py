"""Per-file bookkeeping shared by every format reader: locations, indices, asset ids.

Each reader is handed a :class:`FileContext` for the file (or archive member) it reads and
asks it for the location of every item it yields, so indices run 0, 1, 2... in the order
items are met, whatever mix of formats one file holds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cryptocheck.model import Location, RunError

CRYPTO_EXTENSIONS = frozenset({
    ".pem", ".crt", ".cer", ".der", ".p7b", ".p7c", ".p12", ".pfx", ".jks", ".jceks",
    ".key", ".pub",
})


@dataclass
class FileContext:
    """One file being read: its path (with ``!`` for archive members) and item counter."""

    path: str
    passwords: tuple[str, ...] = ()
    next_index: int = 0
    items: int = field(default=0)

    def location(self, line: int | None = None) -> Location:
        """The location of the next item of this file (consumes one index)."""
        index = self.next_index
        self.next_index += 1
        self.items += 1
        return Location(path=self.path, index=index, line=line)

    def file_location(self) -> Location:
        """The location of the file as a whole (for errors about the whole file)."""
        return Location(path=self.path)

    def error(self, reason: str, message: str, line: int | None = None) -> RunError:
        """An error about one item of the file (takes an index, like an asset would)."""
        return RunError(self.location(line), reason, message)

    def file_error(self, reason: str, message: str) -> RunError:
        """An error about the file as a whole."""
        self.items += 1
        return RunError(self.file_location(), reason, message)


def asset_id(prefix: str, location: Location, fingerprint: str) -> str:
    """The stable id of an asset: ``cert-…``, ``pub-…`` or ``key-…``."""
    text = f"{location.path}#{location.index}#{fingerprint}"
    return f"{prefix}-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def has_crypto_extension(path: str) -> bool:
    """Whether the file name promises crypto material (a failure there is an error)."""
    name = path.rsplit("!", 1)[-1].rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    return dot >= 0 and name[dot:] in CRYPTO_EXTENSIONS

"""Shipped TOML files, parsed: from their generated JSON form when it is current.

Why: :mod:`tomllib` is pure Python. Parsing ``tls.toml`` (3,000 key/value pairs) costs about
14 ms at every start of a short command, more than a whole scan of one server, and the default
policy about 5 ms more; :func:`json.loads` reads the same data in about 1 ms. So each TOML file
shipped inside the package — the catalogue's ``data/NAME.toml`` and the shipped policies — has
beside it ``NAME.parsed.json``: what :func:`tomllib.loads` gives for that text, with the
SHA-256 of the text it was made from.

Trust: the JSON form is read only for files inside the package, never for a file a user names
(a policy file given by path, whose folder anyone might write to), and nothing is read from or
written to a cache directory. The TOML stays the one definition: the JSON form is used only
while the digest it records is that of the TOML text as read now; otherwise the TOML is
parsed. The JSON form is plain data (``json`` makes dicts, lists, strings, numbers and
booleans; TOML dates and times are ``{"$date": ISO text}`` objects made back into
:mod:`datetime` values), is written by ``scripts/parsed_json.py``, and
``tests/test_parsed_json.py`` checks that each one gives exactly what parsing its TOML gives.

>>> load("algorithms.toml") == __import__("tomllib").loads((DATA / "algorithms.toml").read_text())
True
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
SUFFIX = ".parsed.json"
GENERATOR = "scripts/parsed_json.py"

# TOML's date and time values, as tagged JSON objects (the generator refuses a table with a
# key starting with "$", so a one-key object with a tag is always one of these).
_TAGS: dict[str, Any] = {"$datetime": datetime.datetime, "$date": datetime.date,
                         "$time": datetime.time}


def twin_path(toml: Path) -> Path:
    """Where the generated JSON form of the shipped TOML file ``toml`` lives."""
    return toml.with_name(f"{toml.name.removesuffix('.toml')}{SUFFIX}")


def load(name: str) -> dict[str, Any]:
    """The catalogue table ``name`` (``tls.toml``) of the ``data`` folder, parsed."""
    path = DATA / name
    return shipped(path, path.read_bytes())


def shipped(path: Path, source: str | bytes) -> dict[str, Any]:
    """``tomllib.loads(source)`` for the text ``source`` of ``path``, a TOML file shipped inside
    the package: from its JSON form while that records this text's digest (see the module
    docstring). Errors are tomllib's."""
    raw = source.encode() if isinstance(source, str) else source
    try:
        twin = json.loads(twin_path(path).read_bytes(), object_hook=_untag)
    except (OSError, ValueError):
        twin = None
    if isinstance(twin, dict) and twin.get("sha256") == hashlib.sha256(raw).hexdigest():
        table: dict[str, Any] = twin["table"]
        return table
    import tomllib  # on use: only a file whose JSON form is missing or stale is parsed

    return tomllib.loads(raw.decode("utf-8"))


def document(path: Path) -> str:
    """The text of the JSON form of the shipped TOML file ``path``, made from it as it is now.

    Raises ValueError for what the JSON form would not give back exactly: a non-finite float,
    or a key starting with ``$`` (the tags' prefix).
    """
    import tomllib

    source = path.read_bytes()
    table = _tag(tomllib.loads(source.decode("utf-8")), path.name)
    head = {"generated_from": path.name, "by": GENERATOR,
            "sha256": hashlib.sha256(source).hexdigest()}
    return json.dumps({**head, "table": table}, ensure_ascii=False, separators=(",", ":")) + "\n"


def _tag(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        for key in value:
            if key.startswith("$"):
                raise ValueError(f"{where}.{key}: a key starting with '$' has no JSON form here")
        return {key: _tag(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [_tag(item, f"{where}[{index}]") for index, item in enumerate(value)]
    for tag, kind in _TAGS.items():  # datetime first: a datetime is a date too
        if isinstance(value, kind):
            return {tag: value.isoformat()}
    if isinstance(value, float) and not math.isfinite(value) \
            or not isinstance(value, (str, int, float, bool)):
        raise ValueError(f"{where}: {value!r} has no exact JSON form")
    return value


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((key, value),) = obj.items()
        kind = _TAGS.get(key)
        if kind is not None:
            return kind.fromisoformat(value)
    return obj

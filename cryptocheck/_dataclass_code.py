"""Compiled methods of dataclasses, kept between runs like ``.pyc`` files.

Each ``@dataclass`` writes the source of its ``__init__``, ``__repr__``, ``__eq__``,
``__hash__``, ``__setattr__``... and compiles it with :func:`exec` when its module is imported:
the 54 dataclasses a ``cryptocheck tls`` run imports spend about 45 ms of its start-up there,
most of it compiling. :func:`install` wraps the standard library's ``dataclasses._create_fn``
so that the code object of a text it has compiled before comes from a :mod:`marshal` file in
the cache directory (keyed by the interpreter version and the text itself); everything else
(the text, the namespaces it runs in, the functions made) is the standard library's own.

It applies only where ``dataclasses._create_fn`` has the shape it has in Python 3.11 and 3.12;
anywhere else, and with the cache off (``CRYPTOCHECK_CACHE_DIR=''``), nothing changes.
"""

from __future__ import annotations

import atexit
import dataclasses
import hashlib
import inspect
import marshal
import os
import sys
from pathlib import Path
from types import CodeType
from typing import Any

_CODES: dict[str, CodeType] = {}
_NEW: dict[str, CodeType] = {}
_PATH: Path | None = None
_FORMAT = 1  # of the cache file; a change of what is cached gets a new number


def _cache_path() -> Path | None:
    configured = os.environ.get("CRYPTOCHECK_CACHE_DIR")
    if configured is not None:
        folder = Path(configured) if configured else None
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = Path(base) / "cryptocheck"
    if folder is None:
        return None
    version = hashlib.sha256(sys.version.encode()).hexdigest()[:12]
    return folder / f"dataclass-code-{_FORMAT}-{version}.marshal"


def _create_fn(name: str, args: Any, body: Any, *, globals: Any = None,
               locals: Any = None, return_type: Any = dataclasses.MISSING) -> Any:
    # The text is built exactly as Python 3.11/3.12's dataclasses._create_fn builds it.
    if locals is None:
        locals = {}
    return_annotation = ""
    if return_type is not dataclasses.MISSING:
        locals["_return_type"] = return_type
        return_annotation = "->_return_type"
    args = ",".join(args)
    body = "\n".join(f"  {b}" for b in body)
    txt = f" def {name}({args}){return_annotation}:\n{body}"
    local_vars = ", ".join(locals.keys())
    txt = f"def __create_fn__({local_vars}):\n{txt}\n return {name}"
    code = _CODES.get(txt)
    if code is None:
        # dont_inherit: this module's own __future__ import must not turn annotations into text.
        code = compile(txt, "<string>", "exec", dont_inherit=True)
        _CODES[txt] = _NEW[txt] = code
    ns: dict[str, Any] = {}
    # The standard library's exec ran in its own module's globals when given none.
    exec(code, globals if globals is not None else vars(dataclasses), ns)  # noqa: S102 - the standard library's own generated text
    return ns["__create_fn__"](**locals)


def _save() -> None:
    if not _NEW or _PATH is None:
        return
    temporary = _PATH.with_name(f"{_PATH.name}.{os.getpid()}.tmp")
    try:
        _PATH.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(marshal.dumps(_CODES))
        os.replace(temporary, _PATH)
    except (OSError, ValueError):
        try:
            temporary.unlink()
        except OSError:
            pass


def install() -> None:
    """Use the cached compiled methods from now on (see the module docstring)."""
    global _PATH
    original = getattr(dataclasses, "_create_fn", None)
    if original is None or getattr(original, "__module__", "") != "dataclasses" \
            or sys.version_info[:2] not in ((3, 11), (3, 12)):
        return
    try:
        parameters = list(inspect.signature(original).parameters)
    except (TypeError, ValueError):
        return
    if parameters != ["name", "args", "body", "globals", "locals", "return_type"]:
        return
    _PATH = _cache_path()
    if _PATH is None:
        return
    try:
        loaded = marshal.loads(_PATH.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        loaded = {}
    if isinstance(loaded, dict):
        _CODES.update((k, v) for k, v in loaded.items()
                      if isinstance(k, str) and isinstance(v, CodeType))
    dataclasses._create_fn = _create_fn  # type: ignore[attr-defined]
    atexit.register(_save)

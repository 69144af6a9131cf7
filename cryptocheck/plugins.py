"""Parts of cryptocheck named by ``"module:attr"`` and imported only when used.

Commands (``tls``, ``serve``...) and report formats live in their own modules, so that
``cryptocheck certs`` starts without the TLS scanner or the web framework, and a part that is
not installed is simply not offered.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent


def installed(target: str) -> bool:
    """Whether the module of a ``cryptocheck.x.y:attr`` target is installed.

    Looked up as a file, not with ``find_spec``, which would import the parent package (and
    with it, say, the whole SSH scanner just to print ``--help``).
    """
    parts = target.partition(":")[0].split(".")[1:]
    base = _PACKAGE.joinpath(*parts)
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def load(target: str) -> Any:
    """The attribute a ``module:attr`` target names, importing its module."""
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)

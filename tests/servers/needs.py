"""What a test says it needs, checked where the need arises.

The markers are registered in pyproject.toml (``[tool.pytest.ini_options] markers``).
``integration`` is the umbrella: a test needs something beyond Python and the ``[test]``
extras. The finer markers say what, and each implies ``integration`` (conftest adds it).
``python3 -m pytest -m "not integration"`` therefore runs on a machine with nothing but
Python and the extras installed.

Two checks keep the markers honest, in every run (the full suite too, so a missing marker
fails in CI, not only on a bare machine):

- each server helper of this package calls :func:`require` with its marker: starting sshd
  in a test not marked ``ssh_server`` is an error;
- a fixture that starts something says so once, with :func:`declares`; every test that uses
  it (directly or through another fixture) carries the marker;
- conftest installs :func:`audit`, a ``sys.addaudithook`` hook: a test that runs any program
  other than this Python (``openssl``, ``ssh-keygen``, ``git``, a browser, ...) must be
  marked ``integration`` (through one of the finer markers, or ``tools``).

Outside a test (a benchmark, a script) nothing is checked.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TypeVar

# The finer markers; each implies ``integration``. Their descriptions are in pyproject.toml.
NEEDS = ("tls_server", "ssh_server", "service", "database", "browser", "tools", "c_extension")
UMBRELLA = "integration"


_DECLARED = "_test_needs"
_Fixture = TypeVar("_Fixture", bound=Callable[..., Any])


def declares(*markers: str) -> Callable[[_Fixture], _Fixture]:
    """Mark a fixture function as needing ``markers``: conftest gives every test that uses
    the fixture those markers. Put it under ``@pytest.fixture``.

    >>> @pytest.fixture(scope="module")
    ... @declares("service")
    ... def service(): ...
    """
    assert all(marker in NEEDS for marker in markers), markers

    def mark(fixture: _Fixture) -> _Fixture:
        setattr(fixture, _DECLARED, markers)
        return fixture
    return mark


def declared_by(fixture: Callable[..., Any]) -> tuple[str, ...]:
    """The markers a fixture function was declared with (none when it was not)."""
    return tuple(getattr(fixture, _DECLARED, ()))


class UndeclaredNeed(Exception):
    """A test used something it did not declare with a marker."""


class _Current:
    """The test being run (its node id and markers), set by conftest around each test."""

    nodeid: ClassVar[str | None] = None
    markers: ClassVar[frozenset[str]] = frozenset()
    # Needs that were refused while the test ran: a refusal the code under test caught
    # (an OSError turned into an error record) still fails the test.
    refused: ClassVar[list[str]] = []


def begin(nodeid: str, markers: Iterable[str]) -> None:
    """Record the test about to run (called by conftest before its fixtures are set up)."""
    _Current.nodeid = nodeid
    _Current.markers = frozenset(markers)
    _Current.refused = []


def refused() -> list[str]:
    """The needs refused since the running test began."""
    return list(_Current.refused)


def end() -> None:
    """Forget the test that ran (called by conftest once its fixtures are torn down)."""
    _Current.nodeid, _Current.markers, _Current.refused = None, frozenset(), []


def _refuse(message: str) -> None:
    _Current.refused.append(message)
    raise UndeclaredNeed(message)


def require(marker: str, what: str) -> None:
    """Fail unless the running test is marked ``marker``; ``what`` names what it started.

    >>> require("ssh_server", "sshd")  # inside a test marked @pytest.mark.ssh_server
    """
    assert marker in NEEDS, marker
    if _Current.nodeid is not None and marker not in _Current.markers:
        _refuse(f"{_Current.nodeid} starts {what} but is not marked @pytest.mark.{marker}")


_PYTHON = os.path.realpath(sys.executable)
_PROGRAM_EVENTS = {"subprocess.Popen", "os.posix_spawn", "os.exec", "os.system"}


def _program(event: str, args: tuple[Any, ...]) -> str:
    """The program an audited process-creation event runs, as a path when it is found."""
    if event == "os.system":
        words = os.fsdecode(args[0]).split()
        name = words[0] if words else ""
    elif event == "subprocess.Popen":  # (executable, args, cwd, env); args[0] when no executable
        executable, argv = args[0], args[1]
        if executable is None:
            given: list[Any] = [argv] if isinstance(argv, (str, bytes, os.PathLike)) else list(argv)
            executable = given[0] if given else ""
        name = os.fsdecode(executable)
    else:  # os.posix_spawn and os.exec: (path, argv, env)
        name = os.fsdecode(args[0])
    return shutil.which(name) or name


def audit(event: str, args: tuple[Any, ...]) -> None:
    """``sys.addaudithook`` hook: refuse a program other than this Python in a test that is
    not marked ``integration``. Python itself (``python -m cryptocheck ...``) is allowed."""
    if event not in _PROGRAM_EVENTS or _Current.nodeid is None:
        return
    if UMBRELLA in _Current.markers:
        return
    program = _program(event, args)
    if os.path.realpath(program) == _PYTHON:
        return
    _refuse(f"{_Current.nodeid} runs {program} but is not marked @pytest.mark.tools "
            "(or another marker that implies integration)")

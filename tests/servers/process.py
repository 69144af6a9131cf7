"""Starting and stopping a real server process: a free port, wait until it listens, its
stderr in a file, stopped by its own pid. Every server helper of this package runs through
here, so a server that dies at start says why, and none outlives its test."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from typing import IO


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (the kernel picks it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _said(proc: subprocess.Popen[bytes], errors: IO[bytes] | None) -> str:
    """What a server that exited wrote to ``errors`` (a file) or to its stderr pipe."""
    said = b""
    if errors is not None:
        errors.seek(0)
        said = errors.read()
    elif proc.stderr:
        said = proc.stderr.read()
    return said.decode(errors="replace")


def wait_listening(port: int, proc: subprocess.Popen[bytes] | None = None,
                   timeout: float = 10.0, host: str = "127.0.0.1",
                   errors: IO[bytes] | None = None) -> None:
    """Wait until ``port`` accepts connections; a server that exits first is an error with
    what it wrote to ``errors`` (a file) or its stderr pipe."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited: {_said(proc, errors)}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, grace: float = 10.0) -> None:
    """Stop ``proc`` by its own pid: ``sig`` (SIGKILL to act as a crash would), then SIGKILL
    if it has not exited after ``grace`` seconds. Never by name: other runs share the host."""
    if proc.poll() is None:
        os.kill(proc.pid, sig)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(grace)


@contextlib.contextmanager
def serving(cmd: Sequence[str], port: int, host: str = "127.0.0.1",
            stdin: int = subprocess.DEVNULL, errors: IO[bytes] | None = None,
            timeout: float = 10.0) -> Iterator[subprocess.Popen[bytes]]:
    """Run the server ``cmd`` until the block ends (stopped by its own pid); yields the
    process once ``port`` listens.

    Its stderr goes to a file, never to a pipe: servers that log every refused handshake
    would fill a pipe nobody reads (64 KiB, ten scans or so) and stall. ``errors`` names
    that file when the caller keeps it (a log kept beside the test's files); otherwise a
    temporary one is used."""
    with contextlib.ExitStack() as stack:
        if errors is None:
            errors = stack.enter_context(tempfile.TemporaryFile())
        proc = subprocess.Popen(list(cmd), stdin=stdin, stdout=subprocess.DEVNULL,
                                stderr=errors)
        try:
            wait_listening(port, proc, timeout=timeout, host=host, errors=errors)
            yield proc
        finally:
            stop(proc, grace=5.0)

"""Real OpenSSH servers: ``sshd -D`` on a free 127.0.0.1 port with its own configuration,
host keys made by ssh-keygen, its log in the test's folder, stopped by its own pid. Tests
that start one are marked ``ssh_server``; those that only run ssh-keygen or ``sshd -T``
are marked ``tools``."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from servers.needs import require
from servers.process import free_port, serving

SSHD = "/usr/sbin/sshd"


def sshd_available() -> bool:
    """Whether OpenSSH's server and ssh-keygen are installed (README set-up installs them)."""
    return shutil.which(SSHD) is not None and shutil.which("ssh-keygen") is not None


def host_key(path: Path, *args: str) -> Path:
    """A new key pair without a passphrase at ``path`` (``path.pub`` beside it), made by
    ``ssh-keygen -q ARGS``; ``-t ed25519`` unless ``args`` say otherwise."""
    subprocess.run(["ssh-keygen", "-q", *(args or ("-t", "ed25519")), "-N", "", "-f",
                    str(path)], check=True)
    return path


def sshd_offered(config: Path) -> dict[str, str]:
    """What ``sshd -T`` says a configuration offers: keyword (lower case) -> value."""
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd -T checks it exists
    text = subprocess.run([SSHD, "-T", "-f", str(config)], check=True, capture_output=True,
                          text=True).stdout
    return dict(line.split(" ", 1) for line in text.splitlines() if " " in line)


@dataclass(frozen=True)
class RunningSshd:
    """An sshd started by :func:`sshd`: where it listens and the configuration it runs."""

    port: int
    config: Path


@contextlib.contextmanager
def sshd(folder: Path, host_keys: Iterable[Path], extra: str = "") -> Iterator[RunningSshd]:
    """sshd with ``host_keys`` and the configuration lines ``extra``, its configuration, pid
    file and log (``sshd.log``) in ``folder``; yields it once it listens.

    Password and keyboard-interactive log-ins are off and PAM is not used: nobody logs in,
    the tests only read what the server offers."""
    require("ssh_server", "sshd")
    port = free_port()
    config = folder / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nPidFile {folder}/sshd.pid\n"
        "UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        + "".join(f"HostKey {key}\n" for key in host_keys) + extra)
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege-separation folder
    with open(folder / "sshd.log", "w+b") as log, serving([SSHD, "-D", "-e", "-f", str(config)],
                                                          port, errors=log):
        yield RunningSshd(port, config)

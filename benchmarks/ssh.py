"""Benchmark: cryptocheck ssh against ssh-audit on the same real OpenSSH servers, in one run.

Starts several sshd configurations on 127.0.0.1 (own host keys, own ports), runs ssh-audit
(from PyPI, in its own venv: ``python3 -m venv /tmp/sshaudit-venv &&
/tmp/sshaudit-venv/bin/pip install ssh-audit``; or set SSH_AUDIT) and cryptocheck against each,
checks that both report identical algorithm lists, host key fingerprints and sizes, and prints
the wall time per host of each (ssh-audit as its CLI; cryptocheck both as its CLI and
in-process). Each measurement is the median of --repeat runs.

    python3 benchmarks/ssh.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptocheck.model import EndpointAsset
from cryptocheck.sources.ssh import SshOptions, iter_ssh_items

SSHD = "/usr/sbin/sshd"
KEYS = {"ed25519": ["-t", "ed25519"], "rsa3072": ["-t", "rsa", "-b", "3072"],
        "rsa2048": ["-t", "rsa", "-b", "2048"], "ecdsa256": ["-t", "ecdsa", "-b", "256"],
        "ecdsa384": ["-t", "ecdsa", "-b", "384"]}
SERVERS = {
    "default": (["ed25519", "rsa3072", "ecdsa384"], ""),
    "restricted": (["rsa2048", "ecdsa256"],
                   ("KexAlgorithms curve25519-sha256,diffie-hellman-group14-sha256\n"
                   "Ciphers aes256-gcm@openssh.com,aes128-ctr\n"
                   "MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256\n")),
    "legacy": (["rsa2048"],
               ("KexAlgorithms +diffie-hellman-group1-sha1,diffie-hellman-group14-sha1\n"
               "HostKeyAlgorithms +ssh-rsa\nCiphers +aes128-cbc,3des-cbc\n"
               "MACs +hmac-md5,hmac-sha1-96\n")),
    "hardened": (["ed25519", "rsa3072"],
                 ("KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,"
                 "diffie-hellman-group16-sha512,diffie-hellman-group-exchange-sha256\n"
                 "Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes256-ctr\n"
                 "MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com\n")),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(folder: Path, name: str, keys: dict[str, Path]) -> tuple[subprocess.Popen[bytes], int]:
    key_names, extra = SERVERS[name]
    port = free_port()
    config = folder / f"sshd_{name}"
    config.write_text(f"Port {port}\nListenAddress 127.0.0.1\nPidFile {folder}/{name}.pid\n"
                      "UsePAM no\nPasswordAuthentication no\nMaxStartups 100\n"
                      + "".join(f"HostKey {keys[k]}\n" for k in key_names) + extra)
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, port


def ssh_audit(binary: str, port: int) -> dict[str, Any]:
    out = subprocess.run([binary, "-j", f"127.0.0.1:{port}"], capture_output=True, text=True,
                         check=False)
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def normalise_ssh_audit(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "kex": [k["algorithm"] for k in data["kex"]],
        "host_key_algorithms": [k["algorithm"] for k in data["key"]],
        "ciphers": [k["algorithm"] for k in data["enc"]],
        "macs": [k["algorithm"] for k in data["mac"]],
        "compression": list(data["compression"]),
        "fingerprints": sorted(f"SHA256:{f['hash']}" for f in data["fingerprints"]
                               if f["hash_alg"] == "SHA256"),
        "rsa_sizes": sorted({k["keysize"] for k in data["key"] if "keysize" in k}),
    }


def normalise_cryptocheck(details: dict[str, Any]) -> dict[str, Any]:
    return {
        "kex": details["kex"],
        "host_key_algorithms": details["host_key_algorithms"],
        "ciphers": details["ciphers"]["server_to_client"],
        "macs": details["macs"]["server_to_client"],
        "compression": details["compression"]["server_to_client"],
        "fingerprints": sorted({k["fingerprint"] for k in details["host_keys"]}),
        "rsa_sizes": sorted({k["size"] for k in details["host_keys"]
                             if k["key_algorithm"] == "RSA"}),
    }


def cryptocheck_inprocess(port: int) -> dict[str, Any]:
    for item in iter_ssh_items([f"127.0.0.1:{port}"], SshOptions()):
        if isinstance(item, EndpointAsset):
            return item.details
    raise RuntimeError(f"cryptocheck found no endpoint on port {port}")


def cryptocheck_cli(port: int) -> None:
    subprocess.run([sys.executable, "-m", "cryptocheck", "ssh", f"127.0.0.1:{port}",
                    "--format", "json", "--policy", "ssh-hardening", "-o", os.devnull],
                   check=False, capture_output=True)


def timed(func: Any, *args: Any) -> tuple[float, Any]:
    start_time = time.perf_counter()
    result = func(*args)
    return time.perf_counter() - start_time, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    binary = os.environ.get("SSH_AUDIT") or shutil.which("ssh-audit") or \
        "/tmp/sshaudit-venv/bin/ssh-audit"
    if not Path(binary).exists():
        print("ssh-audit not found: python3 -m venv /tmp/sshaudit-venv && "
              "/tmp/sshaudit-venv/bin/pip install ssh-audit", file=sys.stderr)
        return 2
    python = Path(binary).parent / "python"
    version = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('ssh-audit'))"],
        capture_output=True, text=True, check=False).stdout.strip() if python.exists() else "?"
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)
    mismatches = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        keys = {}
        for name, keygen in KEYS.items():
            keys[name] = folder / f"key_{name}"
            subprocess.run(["ssh-keygen", "-q", *keygen, "-N", "", "-f", str(keys[name])],
                           check=True)
        started = {name: start(folder, name, keys) for name in SERVERS}
        try:
            print(f"ssh-audit {version or '?'}: {binary}")
            print(f"{'server':<12} {'ssh-audit s':>12} {'cc CLI s':>10} {'cc lib s':>10}  "
                  "lists equal")
            for name, (_, port) in started.items():
                audit_times, cli_times, lib_times = [], [], []
                audit: dict[str, Any] = {}
                ours: dict[str, Any] = {}
                for _ in range(args.repeat):
                    seconds, audit = timed(ssh_audit, binary, port)
                    audit_times.append(seconds)
                    seconds, _unused = timed(cryptocheck_cli, port)
                    cli_times.append(seconds)
                    seconds, ours = timed(cryptocheck_inprocess, port)
                    lib_times.append(seconds)
                theirs, mine = normalise_ssh_audit(audit), normalise_cryptocheck(ours)
                equal = theirs == mine
                if not equal:
                    mismatches += 1
                print(f"{name:<12} {statistics.median(audit_times):>12.3f} "
                      f"{statistics.median(cli_times):>10.3f} "
                      f"{statistics.median(lib_times):>10.3f}  {'yes' if equal else 'NO'}")
                if not equal:
                    for key in theirs:
                        if theirs[key] != mine[key]:
                            print(f"    {key}: ssh-audit {theirs[key]}\n"
                                  f"    {' ' * len(key)}  cryptocheck {mine[key]}")
        finally:
            for process, _ in started.values():
                process.terminate()
                process.wait(timeout=10)
    print("cc = cryptocheck (CLI: python -m cryptocheck ssh, JSON report, ssh-hardening policy, "
          "GEX probes on; lib: iter_ssh_items). Medians of", args.repeat, "runs.")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: cryptocheck tls against sslyze on the same real TLS servers, in one run.

Starts several ``openssl s_server`` configurations on 127.0.0.1, each behind a small counting
TCP relay (so the TCP connections each tool opens are counted by the server side, the same
way for both), runs cryptocheck (full and compliance mode) and sslyze (from PyPI, in its own
venv: ``python3 -m venv /tmp/sslyze-venv && /tmp/sslyze-venv/bin/pip install sslyze``, or set
SSLYZE_PYTHON) against each, checks that both report the same accepted suites per protocol,
and prints per endpoint the wall time and the connections of each tool. Both tools run as
command-line programs (interpreter start-up included).

Python byte-code: pip compiles an installed package's modules once, and sslyze's venv has
them; a development checkout run with PYTHONDONTWRITEBYTECODE=1 (as here) would instead compile
every cryptocheck module at every start. So cryptocheck runs with its byte-code kept in a
temporary PYTHONPYCACHEPREFIX (written by one untimed warm-up run, as ``pip install`` would);
``--no-bytecode-cache`` measures it compiling its sources at every start instead. Each tool
gets one untimed warm-up scan per endpoint (the same for both).

Installed like sslyze: ``--venvs`` installs sslyze (when missing) and this checkout each into
a venv of its own (/tmp/sslyze-venv, /tmp/cc-bench-venv) and runs both from there, so that
both tools start the same way; or set CRYPTOCHECK_PYTHON to the interpreter of a venv
cryptocheck was ``pip install``-ed into. By default cryptocheck runs with this
interpreter, whose start-up on a development machine may also load editable-install finders
and site hooks (``*.pth``) that a venv of its own does not; the script prints which it used.

Then nginx listens on --many loopback ports (default 1,000) and both tools scan all of them;
the figure printed is wall time, connections and cryptocheck's peak memory (RSS). The 1,000
ports stand for 1,000 hosts, so cryptocheck runs with --per-host 1024 there (its default
per-host limit of 2 would serialise one address).

    python3 benchmarks/tls.py --venvs [--many 1000] [--skip-many-sslyze]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "tls"
SSLYZE = os.environ.get("SSLYZE_PYTHON", "/tmp/sslyze-venv/bin/python")
# The interpreter cryptocheck runs with (see the module docstring): this one by default.
CRYPTOCHECK = os.environ.get("CRYPTOCHECK_PYTHON", sys.executable)
REPEAT = 3
# Environment of the cryptocheck runs (see the module docstring): set by main().
CC_ENV: dict[str, str] = dict(os.environ)
VERSIONS = {"ssl_2_0": "SSLv2", "ssl_3_0": "SSLv3", "tls_1_0": "TLSv1.0", "tls_1_1": "TLSv1.1",
            "tls_1_2": "TLSv1.2", "tls_1_3": "TLSv1.3"}
SERVERS: dict[str, tuple[list[str], str]] = {
    "tls13-only": (["-tls1_3"], "rsa"),
    "modern-1.2+1.3": (["-no_tls1", "-no_tls1_1", "-cipher",
                        ("ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
                         "ECDHE-RSA-AES128-GCM-SHA256"), "-serverpref"], "rsa"),
    "legacy-1.0-1.2": (["-min_protocol", "TLSv1", "-no_tls1_3", "-cipher",
                        ("AES128-SHA:AES256-SHA:DHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:"
                         "CAMELLIA256-SHA:@SECLEVEL=0")], "rsa"),
    "openssl-default": ([], "rsa"),
    "ecdsa": (["-no_tls1_3"], "ecdsa"),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing on port {port}")


class CountingRelay:
    """Accepts on its own port, counts every TCP connection and relays it to ``backend``."""

    def __init__(self, backend: int) -> None:
        self.backend = backend
        self.port = free_port()
        self.count = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except OSError:
                pass
            finally:
                writer.close()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.count += 1
            try:
                up_r, up_w = await asyncio.open_connection("127.0.0.1", self.backend)
            except OSError:
                writer.close()
                return
            await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))

        async def main() -> None:
            server = await asyncio.start_server(handle, "127.0.0.1", self.port, backlog=512)
            self.ready.set()
            async with server:
                await server.serve_forever()

        self.loop.run_until_complete(main())

    def reset(self) -> None:
        self.count = 0


def start_s_server(args: list[str], cert: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-quiet",
         "-cert", str(FIXTURES / f"{cert}.pem"), "-key", str(FIXTURES / f"{cert}.key"), *args],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port)
    return proc, port


def run_cryptocheck(targets: list[str], mode: str = "full", per_host: int = 2,
                    policy: str = "nhs-acagpg") -> tuple[float, dict[str, Any], int]:
    """Wall time of ``cryptocheck tls`` (as a CLI), its JSON report and peak RSS (KiB)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(targets))
        listing = handle.name
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        report = out.name
    cmd = [CRYPTOCHECK, "-m", "cryptocheck", "tls", "--targets-file", listing,
           "--format", "json", "-o", report, "--mode", mode, "--per-host", str(per_host),
           "--policy", policy, "--no-progress", "--concurrency", "256",
           "--global-limit", "512"]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errors, env=CC_ENV)
        # wait4: the peak RSS of this child alone (RUSAGE_CHILDREN is the largest child so
        # far, which may be an earlier sslyze run).
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):
            errors.seek(0)
            sys.exit(f"cryptocheck failed ({proc.returncode}): {errors.read()[-2000:]}")
    peak = usage.ru_maxrss
    data = json.loads(Path(report).read_text())
    os.unlink(listing)
    os.unlink(report)
    return elapsed, data, peak


def run_sslyze(targets: list[str]) -> tuple[float, dict[str, Any]]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(targets))
        listing = handle.name
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        report = out.name
    cmd = [SSLYZE, "-m", "sslyze", "--targets_in", listing, "--json_out", report, "--sslv2",
           "--sslv3", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", "--elliptic_curves",
           "--certinfo", "--quiet"]
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - start
    data = json.loads(Path(report).read_text())
    os.unlink(listing)
    os.unlink(report)
    return elapsed, data


SSLYZE_INPROCESS = """
import sys, time
from sslyze import Scanner, ServerScanRequest, ServerNetworkLocation, ScanCommand
commands = {ScanCommand.SSL_2_0_CIPHER_SUITES, ScanCommand.SSL_3_0_CIPHER_SUITES,
            ScanCommand.TLS_1_0_CIPHER_SUITES, ScanCommand.TLS_1_1_CIPHER_SUITES,
            ScanCommand.TLS_1_2_CIPHER_SUITES, ScanCommand.TLS_1_3_CIPHER_SUITES,
            ScanCommand.ELLIPTIC_CURVES, ScanCommand.CERTIFICATE_INFO}
request = ServerScanRequest(server_location=ServerNetworkLocation("127.0.0.1", int(sys.argv[1])),
                            scan_commands=commands)
start = time.perf_counter()
scanner = Scanner()
scanner.queue_scans([request])
for result in scanner.get_results():
    pass
print(time.perf_counter() - start)
"""

CRYPTOCHECK_INPROCESS = """
import sys, time
from cryptocheck.sources.tls import TlsOptions, iter_tls_items
start = time.perf_counter()
items = list(iter_tls_items(["127.0.0.1:" + sys.argv[1]], TlsOptions()))
print(time.perf_counter() - start)
"""


def in_process(python: str, script: str, port: int) -> float:
    """Scan time measured inside the tool's process, after its imports."""
    env = CC_ENV if python == CRYPTOCHECK else None
    out = subprocess.run([python, "-c", script, str(port)], capture_output=True, text=True,
                         check=True, env=env).stdout
    return float(out.strip().splitlines()[-1])


def cryptocheck_suites(report: dict[str, Any]) -> dict[str, set[str]]:
    endpoint = next(a for a in report["assets"] if a["type"] == "tls-endpoint")
    return {p: set(e["cipher_suites"]) for p, e in endpoint["protocols"].items()
            if e["accepted"]}


def sslyze_suites(result: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    scan = result.get("scan_result") or {}
    for key, protocol in VERSIONS.items():
        attempt = scan.get(f"{key}_cipher_suites") or {}
        accepted = (attempt.get("result") or {}).get("accepted_cipher_suites") or []
        if accepted:
            out[protocol] = {c["cipher_suite"]["name"] for c in accepted}
    return out


def per_endpoint() -> None:
    print("Per endpoint (cryptocheck full / compliance vs sslyze; TCP connections counted by "
          "a relay in front of each server):")
    print("  wall time as a command (interpreter start-up included) and in-process (after imports)")
    header = (f"{'endpoint':<17} {'cc cli s':>8} {'cc lib s':>8} {'cc conns':>8} {'cc compl':>8} "
              f"{'sz cli s':>8} {'sz lib s':>8} {'sz conns':>8} {'cli x':>6} {'lib x':>6} "
              f"{'conns x':>7}  same suites")
    print(header)
    for name, (args, cert) in SERVERS.items():
        proc, port = start_s_server(args, cert)
        relay = CountingRelay(port)
        target = [f"127.0.0.1:{relay.port}"]
        try:
            run_cryptocheck(target)  # warm-up runs, not timed or counted
            run_sslyze(target)
            relay.reset()
            cc_time, cc_report, _ = run_cryptocheck(target)
            cc_conns = relay.count
            relay.reset()
            run_cryptocheck(target, mode="compliance")
            compliance_conns = relay.count
            relay.reset()
            sz_time, sz_report = run_sslyze(target)
            sz_conns = relay.count
            same = cryptocheck_suites(cc_report) == sslyze_suites(
                sz_report["server_scan_results"][0])
            # The machine is shared: each time is the median of REPEAT runs.
            cc_time = statistics.median([cc_time] + [run_cryptocheck(target)[0]
                                                     for _ in range(REPEAT - 1)])
            sz_time = statistics.median([sz_time] + [run_sslyze(target)[0]
                                                     for _ in range(REPEAT - 1)])
            cc_lib = statistics.median(in_process(CRYPTOCHECK, CRYPTOCHECK_INPROCESS,
                                                  relay.port) for _ in range(REPEAT))
            sz_lib = statistics.median(in_process(SSLYZE, SSLYZE_INPROCESS, relay.port)
                                       for _ in range(REPEAT))
            print(f"{name:<17} {cc_time:>8.2f} {cc_lib:>8.2f} {cc_conns:>8} {compliance_conns:>8} "
                  f"{sz_time:>8.2f} {sz_lib:>8.2f} {sz_conns:>8} {sz_time / cc_time:>6.1f} "
                  f"{sz_lib / cc_lib:>6.1f} {sz_conns / max(cc_conns, 1):>7.1f}  {same}")
            if not same:
                print(f"    cryptocheck: {cryptocheck_suites(cc_report)}")
                print(f"    sslyze:      {sslyze_suites(sz_report['server_scan_results'][0])}")
        finally:
            proc.terminate()
            proc.wait(5)


def accepts(status_port: int) -> int:
    """nginx's count of accepted connections (stub_status); the query itself is one."""
    with socket.create_connection(("127.0.0.1", status_port), 5) as sock:
        sock.sendall(b"GET /status HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    numbers = data.decode().split("server accepts handled requests")[1].split()
    return int(numbers[0])


def many(count: int, skip_sslyze: bool) -> None:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    ports = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    status_port = free_port()
    with tempfile.TemporaryDirectory() as prefix:
        os.makedirs(f"{prefix}/logs")
        listens = "\n".join(f"    listen 127.0.0.1:{p} ssl;" for p in ports)
        Path(f"{prefix}/nginx.conf").write_text(f"""
worker_processes 2;
worker_rlimit_nofile 65536;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log crit;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  server {{
{listens}
    ssl_certificate {FIXTURES}/rsa.pem;
    ssl_certificate_key {FIXTURES}/rsa.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305;
    location / {{ return 200 "ok"; }}
  }}
  server {{
    listen 127.0.0.1:{status_port};
    location /status {{ stub_status; }}
  }}
}}
""")
        proc = subprocess.Popen([binary, "-p", prefix, "-c", f"{prefix}/nginx.conf",
                                 "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            wait_listening(ports[-1])
            wait_listening(status_port)
            targets = [f"127.0.0.1:{p}" for p in ports]
            before = accepts(status_port)
            cc_time, report, peak = run_cryptocheck(targets, per_host=1024)
            served = accepts(status_port) - before - 1
            endpoints = [a for a in report["assets"] if a["type"] == "tls-endpoint"]
            conns = sum(a["connections"] for a in endpoints)
            print(f"\n{count} loopback endpoints (nginx, TLS 1.2 + 1.3):")
            print(f"  cryptocheck full scan: {cc_time:.1f} s, {len(endpoints)} endpoints, "
                  f"{len(report['errors'])} errors, {served} connections accepted by nginx "
                  f"({conns} counted by cryptocheck), peak RSS {peak / 1024:.0f} MB")
            before = accepts(status_port)
            start = time.perf_counter()
            run_cryptocheck(targets, per_host=1024, mode="compliance",
                            policy="mozilla-intermediate")
            compliance_time = time.perf_counter() - start
            print(f"  cryptocheck --mode compliance (mozilla-intermediate): "
                  f"{compliance_time:.1f} s, {accepts(status_port) - before - 1} connections")
            if not skip_sslyze:
                before = accepts(status_port)
                sz_time, sz_report = run_sslyze(targets)
                served = accepts(status_port) - before - 1
                ok = sum(1 for r in sz_report["server_scan_results"]
                         if r.get("scan_status") == "COMPLETED")
                print(f"  sslyze (cipher suites, curves, certificate): {sz_time:.1f} s, "
                      f"{ok} endpoints completed, {served} connections accepted by nginx")
        finally:
            proc.terminate()
            proc.wait(10)


SSLYZE_VENV = Path("/tmp/sslyze-venv")
CC_VENV = Path("/tmp/cc-bench-venv")


def make_venvs() -> None:
    """sslyze from PyPI and this checkout, each ``pip install``-ed into a venv of its own."""
    if "SSLYZE_PYTHON" not in os.environ and not (SSLYZE_VENV / "bin" / "python").exists():
        print(f"installing sslyze into {SSLYZE_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(SSLYZE_VENV)], check=True)
        subprocess.run([str(SSLYZE_VENV / "bin" / "pip"), "install", "-q", "sslyze"],
                       check=True)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=False).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "cryptocheck",
                            "policies", "pyproject.toml", "setup.py"],
                           capture_output=True, text=True, check=False).stdout.strip()
    marker = CC_VENV / "cryptocheck-commit"
    wanted = head + (" (with uncommitted changes)" if dirty else "")
    if dirty or not marker.exists() or marker.read_text() != wanted:
        print(f"installing this checkout ({wanted}) into {CC_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(CC_VENV)], check=True)
        subprocess.run([str(CC_VENV / "bin" / "pip"), "install", "-q", str(ROOT)], check=True)
        marker.write_text(wanted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--many", type=int, default=1000)
    parser.add_argument("--skip-many-sslyze", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-endpoints", action="store_true",
                        help="Only the many-endpoint figure.")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="Run cryptocheck compiling its modules at every start.")
    parser.add_argument("--venvs", action="store_true",
                        help="Install both tools the same way first: sslyze from PyPI into "
                             f"{SSLYZE_VENV} (when missing) and this checkout into "
                             f"{CC_VENV} (when its commit changed), and run cryptocheck "
                             "from there (unless CRYPTOCHECK_PYTHON is set).")
    args = parser.parse_args()
    global REPEAT, CRYPTOCHECK
    REPEAT = max(1, args.repeat)
    if args.venvs:
        make_venvs()
        if "CRYPTOCHECK_PYTHON" not in os.environ:
            CRYPTOCHECK = str(CC_VENV / "bin" / "python")
    if not Path(SSLYZE).exists():
        sys.exit(f"sslyze interpreter {SSLYZE} not found (see the module docstring)")
    with tempfile.TemporaryDirectory(prefix="cryptocheck-pyc-") as pycache:
        if args.no_bytecode_cache:
            CC_ENV["PYTHONDONTWRITEBYTECODE"] = "1"
            CC_ENV.pop("PYTHONPYCACHEPREFIX", None)
        else:
            CC_ENV.pop("PYTHONDONTWRITEBYTECODE", None)
            CC_ENV["PYTHONPYCACHEPREFIX"] = pycache
        print(f"cryptocheck interpreter: {CRYPTOCHECK}")
        print(f"cryptocheck byte-code: {'compiled at every start' if args.no_bytecode_cache else 'cached'}; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the start")
        if not args.skip_endpoints:
            per_endpoint()
        if args.many:
            many(args.many, args.skip_many_sslyze)
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end")


if __name__ == "__main__":
    main()

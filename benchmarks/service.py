"""Throughput of ``POST /v1/check/certificates`` on the real server, beside a baseline.

Starts ``cryptocheck serve`` (SQLite, in a temporary directory) on a free port, then for each
endpoint runs CONCURRENCY client threads (keep-alive connections) for DURATION seconds and
prints requests/s with p50/p99 latency:

- baseline: ``GET /healthz`` (no token, no database): what the HTTP stack itself costs;
- ``GET /v1/policies`` with a token: authentication and rate limiting on top;
- ``POST /v1/check/certificates`` with a realistic chain (leaf, intermediate, root: RSA
  2048/3072/4096 from tests/corpus), answered as a JSON report.

Usage: python benchmarks/service.py [--duration 5] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAIN = ROOT / "tests" / "corpus" / "certs" / "chain-leaf-rsa-2048.pem"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(port: int, method: str, path: str, body: bytes | None, headers: dict[str, str],
        duration: float, concurrency: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def client() -> None:
        nonlocal failures
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            answer.read()
            mine.append(time.perf_counter() - started)
            if answer.status != 200:
                bad += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            failures += bad

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.monotonic() - started), latencies, failures


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        config = Path(folder) / "serve.toml"
        config.write_text("[limits]\nrate_limit_per_minute = 100000000\n", "utf-8")
        token = subprocess.run([sys.executable, "-m", "cryptocheck", "serve", "token", "create",
                                "--scope", "scan", "--database-url", url],
                               capture_output=True, text=True, check=True).stdout.strip()
        port = free_port()
        with open(Path(folder) / "server.log", "wb") as log:  # the child keeps its own
            server = subprocess.Popen([sys.executable, "-m", "cryptocheck", "serve", "--port",
                                       str(port), "--database-url", url, "--config",
                                       str(config)], stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start")
                    time.sleep(0.1)
            auth = {"Authorization": f"Bearer {token}"}
            body = CHAIN.read_bytes()
            cases = [
                ("baseline GET /healthz", "GET", "/healthz", None, {}),
                ("GET /v1/policies (token)", "GET", "/v1/policies", None, auth),
                ("POST /v1/check/certificates", "POST", "/v1/check/certificates?name=chain.pem",
                 body, {**auth, "Content-Type": "application/x-pem-file"}),
            ]
            print(f"cryptocheck serve on 127.0.0.1:{port}, SQLite; {args.concurrency} client "
                  f"threads x {args.duration:g} s each; chain of 3 certificates "
                  f"({len(body)} bytes PEM); {os.cpu_count()} CPU(s)")
            print(f"{'endpoint':<34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} "
                  f"{'non-200':>8}")
            for name, method, path, data, headers in cases:
                run(port, method, path, data, headers, 0.5, 1)  # warm up
                rate, latencies, failures = run(port, method, path, data, headers,
                                                args.duration, args.concurrency)
                print(f"{name:<34} {rate:>8.1f} {percentile(latencies, 0.5) * 1000:>8.2f} "
                      f"{percentile(latencies, 0.99) * 1000:>8.2f} "
                      f"{statistics.fmean(latencies) * 1000:>8.2f} {failures:>8}")
        finally:
            os.kill(server.pid, signal.SIGTERM)
            server.wait(timeout=20)


if __name__ == "__main__":
    main()

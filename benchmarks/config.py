"""Benchmark: ``cryptocheck config`` over a generated repository of mixed files.

Generates N files (default 10,000) in a temporary tree shaped like an infrastructure
repository: nginx, Apache, HAProxy, OpenSSL, Terraform, Kubernetes, java.security, Postfix
files (with varied protocols and cipher strings) beside files that are not configuration
(Markdown, Python, JSON, shell, small binaries) and a .gitignore'd build directory. Then
measures, in the same run and on one core:

  baseline   walking the tree and reading every file (os.walk + read), nothing parsed
  walk+parse cryptocheck.sources.config.iter_config_items (walk, .gitignore, kind detection, parsers,
             cipher-string expansion, certificates/DH files, inline waivers)
  full scan  the whole run as ``cryptocheck config`` does it: items judged by the default
             policy (usages, policy evaluation), reported to nowhere

and prints files/s for each (target: >= 2,000 files/s for the full scan). With ``--report
FMT`` (repeatable) the full scan is run again for each format, writing that report to
``os.devnull``, to show what formatting the findings adds (``text`` is what ``cryptocheck
config`` prints by default).

    python benchmarks/config.py [--files 10000] [--heavy] [--report text] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from cryptocheck.model import Asset, Report, RunError
from cryptocheck.report import Reporter, ReportOptions, RunHeader, make_reporter
from cryptocheck.run import scan
from cryptocheck.sources.config.stream import ConfigRun, iter_config_items

PROTOCOLS = ["TLSv1.2 TLSv1.3", "TLSv1 TLSv1.1 TLSv1.2", "TLSv1.2", "TLSv1.3", "SSLv3 TLSv1"]
CIPHERS = ["HIGH:!aNULL:!MD5", "ECDHE+AESGCM:!aNULL", "DEFAULT", "ALL:!EXPORT:!LOW",
           "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384", "HIGH:MEDIUM:RC4-SHA",
           "EECDH+AESGCM:EDH+AESGCM:AES256+EECDH:AES256+EDH"]


def _nginx(rng: random.Random, i: int) -> str:
    return (f"server {{\n    listen 443 ssl;\n    server_name s{i}.example.org;\n"
            f"    ssl_protocols {rng.choice(PROTOCOLS)};\n    ssl_ciphers {rng.choice(CIPHERS)};\n"
            f"    ssl_ecdh_curve X25519:prime256v1;\n    location / {{ proxy_pass http://app; }}\n}}\n")


def _apache(rng: random.Random, i: int) -> str:
    return (f"<VirtualHost *:443>\n    ServerName a{i}.example.org\n    SSLEngine on\n"
            f"    SSLProtocol all -SSLv3 {rng.choice(['', '-TLSv1 -TLSv1.1'])}\n"
            f"    SSLCipherSuite {rng.choice(CIPHERS)}\n</VirtualHost>\n")


def _haproxy(rng: random.Random, i: int) -> str:
    return (f"global\n    ssl-default-bind-ciphers {rng.choice(CIPHERS)}\n"
            f"    ssl-default-bind-options ssl-min-ver {rng.choice(['TLSv1.0', 'TLSv1.2'])}\n"
            f"frontend f{i}\n    bind :443 ssl alpn h2 ciphers {rng.choice(CIPHERS)}\n")


def _openssl(rng: random.Random, i: int) -> str:
    return (f"openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sd\n[sd]\n"
            f"MinProtocol = {rng.choice(['TLSv1', 'TLSv1.2'])}\nCipherString = {rng.choice(CIPHERS)}\n")


def _terraform(rng: random.Random, i: int) -> str:
    policy = rng.choice(["ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS13-1-2-2021-06"])
    return (f'resource "aws_lb_listener" "l{i}" {{\n  port = 443\n  protocol = "HTTPS"\n'
            f'  ssl_policy = "{policy}"\n}}\n\nresource "azurerm_storage_account" "s{i}" {{\n'
            f'  name = "s{i}"\n  min_tls_version = "{rng.choice(["TLS1_0", "TLS1_2"])}"\n}}\n')


def _kubernetes(rng: random.Random, i: int) -> str:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ingress-{i}\ndata:\n"
            f'  ssl-protocols: "{rng.choice(PROTOCOLS)}"\n  ssl-ciphers: "{rng.choice(CIPHERS)}"\n'
            f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\n"
            f"spec:\n  replicas: 2\n")


def _java(rng: random.Random, i: int) -> str:
    return ("jdk.tls.disabledAlgorithms=SSLv3, " + rng.choice(["TLSv1, TLSv1.1, ", ""])
            + "RC4, DES, DH keySize < 1024\n")


def _postfix(rng: random.Random, i: int) -> str:
    return (f"smtpd_tls_protocols = {rng.choice(['!SSLv2, !SSLv3', '>=TLSv1.2'])}\n"
            f"smtpd_tls_ciphers = {rng.choice(['medium', 'high'])}\n")


def _other(rng: random.Random, i: int) -> tuple[str, bytes]:
    kind = rng.randrange(5)
    if kind == 0:
        return f"docs/page{i}.md", f"# Page {i}\n\nSome text about TLS 1.2.\n".encode() * 5
    if kind == 1:
        return f"src/mod{i}.py", f"def f{i}(x):\n    return x * {i}\n".encode() * 10
    if kind == 2:
        return f"data/d{i}.json", f'{{"id": {i}, "name": "item {i}"}}\n'.encode()
    if kind == 3:
        return f"scripts/s{i}.sh", f"#!/bin/sh\necho {i}\n".encode()
    return f"assets/img{i}.png", b"\x89PNG\r\n\x1a\n\0\0" + rng.randbytes(512)


MAKERS = [("nginx/conf.d/site{}.conf", _nginx), ("apache/sites/vhost{}.conf", _apache),
          ("haproxy/haproxy{}.cfg", _haproxy), ("openssl/openssl{}.cnf", _openssl),
          ("terraform/lb{}.tf", _terraform), ("k8s/ingress{}.yaml", _kubernetes),
          ("java/app{}.security", _java), ("postfix/main{}.cf", _postfix)]


def _plain_yaml(i: int) -> str:
    return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\nspec:\n"
            f"  replicas: 3\n  template:\n    spec:\n      containers:\n"
            f"        - name: app\n          image: registry.example.org/app:{i}\n")


def _plain_terraform(i: int) -> str:
    return (f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "bucket-{i}"\n  tags = {{\n'
            f'    team = "platform"\n  }}\n}}\n\nvariable "v{i}" {{\n  default = {i}\n}}\n')


def generate(root: Path, count: int, seed: int = 7, heavy: bool = False) -> None:
    """``count`` files under ``root``. The default mix is an infrastructure repository's:
    per 10 files, 2 that choose TLS settings (all eight kinds in turn), 1 Kubernetes
    manifest and 1 Terraform file that choose none, 6 other files (docs, code, data,
    scripts, images), and a .gitignore'd build directory. ``heavy``: half the files choose
    TLS settings."""
    rng = random.Random(seed)
    (root / ".gitignore").write_text("build/\n", "utf-8")
    for i in range(count):
        slot = i % 10
        tls = slot in (0, 5, 1, 3, 7) if heavy else slot in (0, 5)
        if tls:
            pattern, make = MAKERS[i % len(MAKERS)]
            rel, data = pattern.format(i), make(rng, i).encode()
        elif slot == 2:
            rel, data = f"k8s/apps/app{i}.yaml", _plain_yaml(i).encode()
        elif slot == 4:
            rel, data = f"terraform/storage{i}.tf", _plain_terraform(i).encode()
        elif i % 50 == 9:
            rel, data = f"build/out{i}.conf", _nginx(rng, i).encode()
        else:
            rel, data = _other(rng, i)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def baseline(root: Path) -> int:
    """Walk the tree and read every file: the floor any scanner pays."""
    files = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            with open(os.path.join(dirpath, name), "rb") as f:
                f.read()
            files += 1
    return files


class _Null:
    def begin(self, header: RunHeader) -> None:
        pass

    def item(self, asset: Asset, findings: object) -> None:
        pass

    def error(self, error: RunError) -> None:
        pass

    def end(self, report: Report) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--keep", metavar="DIR", help="generate here and keep it")
    parser.add_argument("--heavy", action="store_true",
                        help="half the files choose TLS settings (default: 2 in 10)")
    parser.add_argument("--report", metavar="FMT", action="append", default=[],
                        help="also time the full scan writing this format to os.devnull")
    args = parser.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cc-config-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        generate(root, args.files, heavy=args.heavy)
        total = sum(len(files) for _, _, files in os.walk(root))
        print(f"repository: {total} files under {root} ({'heavy' if args.heavy else 'default'} mix)")

        start = time.perf_counter()
        read = baseline(root)
        base = time.perf_counter() - start
        print(f"baseline    walk + read every file : {read / base:10,.0f} files/s  ({base:.2f} s)")

        run = ConfigRun()
        start = time.perf_counter()
        items = sum(1 for _ in iter_config_items([str(root)], run=run))
        parse = time.perf_counter() - start
        print(f"walk+parse  iter_config_items      : {total / parse:10,.0f} files/s  ({parse:.2f} s, "
              f"{items} items, {run.stats.files_read} config files read)")

        start = time.perf_counter()
        report = scan("config", [str(root)], reporters=[_Null()], collect=False)
        full = time.perf_counter() - start
        assert report.summary is not None
        counts = dict(report.summary.findings_by_status)
        print(f"full scan   items judged by policy : {total / full:10,.0f} files/s  ({full:.2f} s, "
              f"{report.summary.assets} assets, findings {counts})")
        print(f"target >= 2,000 files/s on one core: {'met' if total / full >= 2000 else 'NOT met'}")
        for fmt in args.report:
            with open(os.devnull, "w", encoding="utf-8") as sink:
                reporter: Reporter = make_reporter(fmt, sink, options=ReportOptions())
                start = time.perf_counter()
                scan("config", [str(root)], reporters=[reporter], collect=fmt == "json")
                took = time.perf_counter() - start
            print(f"full scan + {fmt:5} report to devnull: {total / took:10,.0f} files/s  "
                  f"({took:.2f} s)")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Edge cases of the parsers beyond the goldens: inheritance and override details, quoting,
continuations, references and include forms."""

from __future__ import annotations

from pathlib import Path

from cryptocheck.model import ConfigAsset
from cryptocheck.sources.config.stream import iter_config_items

FIXTURES = Path(__file__).parent / "fixtures" / "config"


def _assets(path: Path) -> list[ConfigAsset]:
    return [i for i in iter_config_items([str(path)]) if isinstance(i, ConfigAsset)]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, "utf-8")
    return target


def test_nginx_http_setting_lists_the_servers_that_inherit_it() -> None:
    assets = _assets(FIXTURES / "nginx")
    http = next(a for a in assets if a.scope == "http" and a.directive == "ssl_protocols")
    assert http.details["inherited_by"] == ["server _ (listen 80)",
                                            "server inherits.example.org (listen 8443)"]


def test_nginx_quotes_comments_and_semicolons(tmp_path: Path) -> None:
    _write(tmp_path, "nginx.conf", 'http {\n  server {\n    ssl_ciphers "HIGH:!aNULL;#x" ; # c\n'
                                   "    ssl_protocols TLSv1.2\n      TLSv1.3;\n  }\n}\n")
    assets = _assets(tmp_path)
    assert [(a.directive, a.value, a.location.line, a.location.column) for a in assets] == [
        ("ssl_ciphers", "HIGH:!aNULL;#x", 3, 5), ("ssl_protocols", "TLSv1.2 TLSv1.3", 4, 5)]
    assert assets[1].details["protocols"] == ["TLSv1.2", "TLSv1.3"]


def test_nginx_unterminated_block_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "nginx.conf", "http {\n  ssl_protocols TLSv1.2;\n")
    items = list(iter_config_items([str(tmp_path)]))
    assert any(getattr(i, "reason", None) == "malformed-config" for i in items)
    assert any(getattr(i, "directive", None) == "ssl_protocols" for i in items)


def test_apache_override_continuation_and_protocol_arithmetic(tmp_path: Path) -> None:
    _write(tmp_path, "httpd.conf", "SSLProtocol all -SSLv3\nSSLProtocol -all \\\n  +TLSv1.2 +TLSv1.3\n"
                                   "<VirtualHost *:443>\n  ServerName a.example\n  SSLProtocol TLSv1.1\n"
                                   "</VirtualHost>\n")
    first, second, vhost = _assets(tmp_path)
    assert first.details["overridden_by"].endswith("httpd.conf:2")
    assert first.details["protocols"] == ["TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
    assert second.details["protocols"] == ["TLSv1.2", "TLSv1.3"]
    assert (vhost.scope, vhost.details["protocols"]) == ("VirtualHost *:443 (a.example)", ["TLSv1.1"])


def test_haproxy_line_options_combine_with_defaults(tmp_path: Path) -> None:
    _write(tmp_path, "haproxy.cfg", "global\n  ssl-default-bind-options no-tlsv13\n"
                                    "frontend f\n  bind :443 ssl ssl-min-ver TLSv1.1 crt-ignore-err all\n")
    assets = _assets(tmp_path)
    bind = next(a for a in assets if a.directive == "bind ssl protocols")
    assert bind.details["protocols"] == ["TLSv1.1", "TLSv1.2"]
    assert bind.location.column == 17


def test_openssl_include_directory_and_java_continuations(tmp_path: Path) -> None:
    _write(tmp_path, "openssl.cnf", "[sect]\n.include conf.d\n")
    _write(tmp_path, "conf.d/a.cnf", "[tls]\nCiphersuites = TLS_AES_128_GCM_SHA256\n")
    _write(tmp_path, "x/java.security", "jdk.tls.disabledAlgorithms=SSLv3, \\\n   TLSv1, TLSv1.1\n")
    assets = _assets(tmp_path)
    by_directive = {a.directive: a for a in assets}
    assert by_directive["Ciphersuites"].details["tls13_suites"] == ["TLS_AES_128_GCM_SHA256"]
    assert by_directive["Ciphersuites"].location.path.endswith("conf.d/a.cnf")
    assert by_directive["jdk.tls.disabledAlgorithms"].details["protocols"] == ["TLSv1.2", "TLSv1.3"]


def test_postfix_references_and_grades(tmp_path: Path) -> None:
    _write(tmp_path, "main.cf", "my_list = HIGH:!aNULL:!3DES\ntls_medium_cipherlist = $my_list\n"
                                "smtpd_tls_ciphers = medium\nsmtpd_tls_exclude_ciphers = SHA1\n"
                                "smtpd_tls_protocols = >=TLSv1.2, <=TLSv1.2\n")
    assets = {a.directive: a for a in _assets(tmp_path)}
    grade = assets["smtpd_tls_ciphers"]
    assert grade.details["cipher_string"] == "HIGH:!aNULL:!3DES:!SHA1"
    assert not any("SHA" == s.rsplit("_", 1)[-1] for s in grade.details["cipher_suites"])
    assert assets["smtpd_tls_protocols"].details["protocols"] == ["TLSv1.2"]

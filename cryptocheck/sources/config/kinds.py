"""Which kind of configuration a file is: by its name first, then by what it says.

Names decide when they are conventional (``nginx.conf``, ``sshd_config``, ``main.cf``,
``java.security``, ``*.tf``); otherwise the content decides, from directives only that
kind uses (``ssl_protocols ...;`` is nginx, ``SSLProtocol`` is Apache httpd, a ``bind``
inside a ``frontend`` is HAProxy, ``CipherString`` in a ``[section]`` is OpenSSL, an
``apiVersion``/``kind`` document is Kubernetes). A file that matches nothing is not read.

The kinds themselves are the keys of :data:`cryptocheck.sources.config.stream.PARSERS` (with
``sshd`` and ``ssh``, read by :mod:`cryptocheck.sources.config.sshd`): this module only
recognises them, it keeps no list of its own.
"""

from __future__ import annotations

import os
import re

_BY_NAME = {
    "nginx.conf": "nginx", "httpd.conf": "apache", "apache2.conf": "apache",
    "haproxy.cfg": "haproxy", "openssl.cnf": "openssl", "java.security": "java",
    "main.cf": "postfix", "sshd_config": "sshd", "ssh_config": "ssh",
}
_TEXT_EXTENSIONS = (".conf", ".cfg", ".cnf", ".config", ".vhost", ".site", ".inc", ".security",
                    ".properties", ".cf", "")

_NGINX = re.compile(r"^\s*(ssl_protocols|ssl_ciphers|ssl_certificate|ssl_dhparam|ssl_ecdh_curve|"
                    r"ssl_conf_command|server_name|listen)\s[^;\n]*;", re.MULTILINE)
_NGINX_BLOCK = re.compile(r"^\s*(server|http|stream|upstream|location)\b[^{;\n]*\{", re.MULTILINE)
_APACHE = re.compile(r"^\s*(SSLProtocol|SSLCipherSuite|SSLEngine|SSLOpenSSLConfCmd|"
                     r"SSLCertificateFile|SSLProxyProtocol|SSLProxyCipherSuite)\b", re.MULTILINE | re.IGNORECASE)
_APACHE_BLOCK = re.compile(r"^\s*<(VirtualHost|IfModule|Directory)\b", re.MULTILINE | re.IGNORECASE)
_HAPROXY = re.compile(r"^\s*(frontend|backend|listen|defaults|global)\b", re.MULTILINE)
_HAPROXY_TLS = re.compile(r"^\s*(bind|server|ssl-default-bind-\S+|ssl-default-server-\S+)\s", re.MULTILINE)
_OPENSSL = re.compile(r"^\s*(CipherString|MinProtocol|MaxProtocol|Ciphersuites|Groups|"
                      r"SignatureAlgorithms|openssl_conf|ssl_conf|system_default)\s*=", re.MULTILINE)
_JAVA = re.compile(r"^\s*jdk\.(tls|certpath)\.disabledAlgorithms\s*[=:]", re.MULTILINE)
_POSTFIX = re.compile(r"^\s*(smtpd?_tls_\w+|tls_\w+_cipherlist|lmtp_tls_\w+)\s*=", re.MULTILINE)
_K8S = re.compile(r"^\s*apiVersion:\s*\S+", re.MULTILINE)
_K8S_KIND = re.compile(r"^\s*kind:\s*\S+", re.MULTILINE)


def kind_by_name(path: str) -> str | None:
    """The kind a file's name alone says, or None."""
    name = os.path.basename(path)
    if name in _BY_NAME:
        return _BY_NAME[name]
    lower = name.lower()
    parent = os.path.basename(os.path.dirname(path))
    if lower.endswith(".tf"):
        return "terraform"
    if parent in ("sshd_config.d",) and lower.endswith(".conf"):
        return "sshd"
    if parent in ("ssh_config.d",) and lower.endswith(".conf"):
        return "ssh"
    return None


def might_be_config(path: str) -> bool:
    """Whether a file's name allows it to be configuration worth sniffing."""
    if kind_by_name(path):
        return True
    lower = os.path.basename(path).lower()
    if lower.endswith((".yaml", ".yml")):
        return True
    ext = os.path.splitext(lower)[1]
    return ext in _TEXT_EXTENSIONS


def detect_kind(path: str, text: str) -> str | None:
    """The kind of configuration in ``text`` read from ``path``, or None."""
    by_name = kind_by_name(path)
    if by_name:
        return by_name
    lower = path.lower()
    if lower.endswith((".yaml", ".yml")):
        if _K8S.search(text) and _K8S_KIND.search(text):
            return "kubernetes"
        return None
    if _JAVA.search(text):
        return "java"
    if _APACHE.search(text) or (_APACHE_BLOCK.search(text) and "SSL" in text):
        return "apache"
    if _NGINX.search(text) or _NGINX_BLOCK.search(text):
        return "nginx"
    if _HAPROXY.search(text) and _HAPROXY_TLS.search(text):
        return "haproxy"
    if _OPENSSL.search(text):
        return "openssl"
    if _POSTFIX.search(text):
        return "postfix"
    return None

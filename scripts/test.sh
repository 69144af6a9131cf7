#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian/Ubuntu machine, then runs them.
# Usage: scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# System tools the tests run for real: openssl (fixtures, s_server endpoints and the
# comparison tests), ssh-keygen (OpenSSH key fixtures), sshd (SSH endpoints), nginx (TLS
# endpoints), gnutls-serv (RC4 and 3DES endpoints), git (--changed-since), chromium (the HTML
# report and the dashboard, headless).
need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
# GnuTLS's server and client (gnutls-bin): a TLS endpoint with RC4 and 3DES, which Debian's
# OpenSSL 3 can no longer serve.
command -v gnutls-serv >/dev/null 2>&1 || need+=(gnutls-bin)
command -v git >/dev/null 2>&1 || need+=(git)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The bulk path's optional C extension (tests compare it with the pure-Python scanner).
command -v gcc >/dev/null 2>&1 || need+=(gcc)
[ -f /usr/include/openssl/sha.h ] || need+=(libssl-dev)
python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || need+=(python3-dev)
if [ "${#need[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi

python3 -m pip install -q --disable-pip-version-check -e '.[test]'
exec python3 -m pytest "$@"

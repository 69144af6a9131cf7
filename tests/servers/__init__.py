"""Every real server the tests start, in one place, each started the same way: on a free
127.0.0.1 port, waited for until it listens, its stderr in a file, stopped by its own pid.

- ``process``: the common start/wait/stop (and ``free_port``);
- ``tls``: openssl s_server, gnutls-serv, the bundled-OpenSSL server, nginx, PostgreSQL with
  ssl = on;
- ``sshd``: OpenSSH's sshd and its host keys;
- ``service``: the ``cryptocheck serve`` process and HTTP to it;
- ``database``: a schema of its own in the machine's PostgreSQL;
- ``browser``: the system Chromium through Playwright;
- ``relays``: small in-process servers (STARTTLS fronts, hostile endpoints, relays);
- ``needs``: the markers that say what a test needs, and their checks.
"""

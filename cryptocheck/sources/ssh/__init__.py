"""cryptocheck.sources.ssh: SSH servers on the wire.

``iter_ssh_items(targets, SshOptions())`` scans servers (used by ``cryptocheck ssh`` and by
the service) with the probes of :mod:`.probes`; ``usages`` turns what they found, and the
sshd_config / ssh_config settings read by :mod:`cryptocheck.sources.config.sshd`, into
``ssh.*`` crypto usages.
"""

from cryptocheck.sources.ssh.scan import SshOptions, iter_ssh_items

__all__ = ["SshOptions", "iter_ssh_items"]

"""cryptocheck.sources.ssh: SSH servers on the wire and sshd_config / ssh_config files.

``iter_ssh_items(targets, SshOptions())`` scans servers (used by ``cryptocheck ssh`` and by
the service); ``config.config_assets`` reads configuration files; ``usages`` turns both into
``ssh.*`` crypto usages.
"""

from cryptocheck.sources.ssh.scan import SshOptions, iter_ssh_items

__all__ = ["SshOptions", "iter_ssh_items"]

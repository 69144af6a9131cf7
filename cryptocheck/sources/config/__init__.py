"""Configuration and infrastructure-as-code: every place a protocol, cipher, key size or TLS
policy is chosen, as a :class:`~cryptocheck.model.ConfigAsset` at its file, line and column.

The stream of a run (the walk, kind detection, one parser per kind in
:data:`~cryptocheck.sources.config.stream.PARSERS`, inline waivers and baselines) is
:mod:`cryptocheck.sources.config.stream`; the source's record is
:mod:`cryptocheck.sources.config.source`. This package imports nothing itself, so that a
command needing one parser (``cryptocheck ssh --sshd-config``) does not load them all.
"""

"""The command line: thin. Parses options, calls :func:`cryptocheck.run.scan`, picks the
reporters and sets the exit code. One module per command; :mod:`.common` holds the options
every scanning command shares and the one exit decision."""

from cryptocheck.cli.main import main, run

__all__ = ["main", "run"]

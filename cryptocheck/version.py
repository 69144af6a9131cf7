"""The version of cryptocheck: written here once; the package, the reports, the SSH client's
banner and the packaging metadata (pyproject's dynamic version) all read it from here."""

__version__ = "0.1.0"

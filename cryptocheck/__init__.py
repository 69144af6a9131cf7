"""cryptocheck: find the cryptography in use and judge it against an approved-algorithms policy."""

__version__ = "0.1.0"

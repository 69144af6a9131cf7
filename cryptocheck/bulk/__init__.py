"""cryptocheck.bulk (in progress)."""

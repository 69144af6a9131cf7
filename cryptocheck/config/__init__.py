"""cryptocheck.config (in progress)."""

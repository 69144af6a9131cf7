"""cryptocheck.serve (in progress)."""

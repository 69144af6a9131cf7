"""cryptocheck.ssh (in progress)."""

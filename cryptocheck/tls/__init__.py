"""cryptocheck.tls (in progress)."""

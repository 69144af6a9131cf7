"""``python -m cryptocheck`` runs the command line."""

from cryptocheck.cli.main import run

run()

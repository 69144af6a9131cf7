"""``python -m cryptocheck`` runs the command line."""

from .cli import run

run()

"""``python -m cryptocheck`` runs the command line."""

from .cli import main

main(prog_name="cryptocheck")

"""``python -m modeldash`` runs the CLI."""
from modeldash.scripts.cli import main

main()

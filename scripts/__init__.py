"""Everything that touches files, processes or the network: render, lint, sync, CLI."""

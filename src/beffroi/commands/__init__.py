"""Subcommands of `beffroi` that need Django (the pure ones live in their packages)."""

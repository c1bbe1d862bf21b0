"""`python -m refuge.cli`: the `refuge` command."""

from refuge.cli import main

main()

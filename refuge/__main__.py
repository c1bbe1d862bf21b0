"""`python -m refuge ...` is the `refuge` command."""

from refuge.cli import main

if __name__ == "__main__":
    main()

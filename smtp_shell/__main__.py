"""`python -m smtp_shell` works exactly like the `smtp-shell` command."""

from smtp_shell.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

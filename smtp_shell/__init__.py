"""smtp-shell: type SMTP by hand over a socket the shell manages, and see every step.

The package is layered (imports only go downward; pyproject.toml states it as import-linter
contracts and docs/architecture.md explains it):

    cli.py        argument parsing, exit codes, wiring
    environment.py  streams, terminal facts, colour (main(argv, env=...))
    lessons/      guided lessons
    shell/        the prompt_toolkit REPL and batch runner
    transcript/   recording, replay, export, report
    render.py     rich rendering of the conversation
    transport.py  the only code that touches sockets and ssl
    protocol/     sans-IO SMTP client core (pure): the session model, events, advisor
    address.py    HOST[:PORT] parsing/formatting, the one escaping policy (imports nothing)
    status.py     exit statuses, log_error
    paths.py      where user data lives; atomic_write
    lab/          the embedded lab server on aiosmtpd (knows nothing of the shell)
"""

__version__ = "0.1.0"

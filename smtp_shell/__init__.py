"""smtp-shell: type SMTP by hand over a socket the shell manages, and see every step.

The package is layered (imports only go downward):

    cli.py        argument parsing, exit codes, wiring
    lessons/      guided lessons
    shell/        the prompt_toolkit REPL and batch runner
    transcript/   recording, replay, export, report
    render.py     rich rendering of the conversation
    transport.py  the only code that touches sockets and ssl
    protocol/     sans-IO SMTP client core (pure)
    address.py    HOST[:PORT] parsing/formatting, the one escaping policy (imports nothing)
    lab/          the embedded lab server on aiosmtpd (knows nothing of the shell)
    paths.py      where user data lives (history, certificates, mailbox)
"""

__version__ = "0.1.0"

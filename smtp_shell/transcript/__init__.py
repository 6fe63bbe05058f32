"""Transcripts: a session recorded as versioned JSON Lines, and the tools that read them back.

    format.py    the file format: header, event kinds, field types, `TranscriptError`
    recorder.py  a session listener that writes events as they happen (flushed per event)
    reader.py    reads a file back, validated and streamed (torn files are incomplete; the hash chain)
    replay.py    plays a transcript through the live shell's `Renderer`, with timing
    player.py    the interactive player (pause, step, markers, search) on a terminal
    against.py   re-sends the client side to a live server and compares the replies
    summary.py   what happened in a session (TLS, login, messages, errors), for export and report
    export.py    text, Markdown, HTML (with a sequence diagram), SVG, Mermaid and cast, streamed
    report.py    the class view: one row per student x lesson (table, gradebook CSV, JSON)
    grading.py   what a lesson transcript says: steps passed of total, attempts, hints, outcome
    verify.py    `report --verify`: a transcript against the lab server's own session logs
    classpage.py `report --format html`: one sortable page for the class
    diffing.py   `diff MODEL STUDENT`: two transcripts aligned at the protocol level
    cast.py      `export --format cast`: asciinema v2
    escape.py    the one escaping function per output kind (terminal, CSV, JSON, Markdown, HTML, SVG)
    commands.py  the `replay`, `export`, `report` and `diff` sub-commands

Nothing here imports `smtp_shell.shell`: the recorder has the same method names as the shell's
`Listener`, and `against` is handed a session driver by its caller.
"""

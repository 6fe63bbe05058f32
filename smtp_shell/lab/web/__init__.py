"""The lab's web view for a class: inbox, live sessions, class board (aiohttp, the lab's loop).

`start_web(server, tracker, host, port)` serves it from the lab server's own event loop; the
page is hand-written HTML, CSS and JavaScript under static/ (no build step, no CDN), fed by
server-sent events. See docs/classroom.md.
"""

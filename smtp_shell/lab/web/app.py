"""The aiohttp application of the web view, and starting it in the lab server's event loop.

Routes: `/` class board, `/sessions` and `/session/N` (live, server-sent events from
`/events`), `/inbox` and `/message/FOLDER/ID` (+ `/raw`, `/eml`, `/part/N`), `/static/…`.
Every response carries a strict Content-Security-Policy (scripts only from this server, no
inline script, nothing remote); an HTML part of a message is served with the CSP `sandbox`
directive and `default-src 'none'`, inside an iframe with an empty `sandbox` attribute, so
nothing in a message can run script or load anything. On an address other than loopback every
request needs the token printed at start (`?token=…` once; a cookie after that).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from smtp_shell.address import format_hostport, is_loopback
from smtp_shell.lab.mailbox import Mailbox, StoredMessage
from smtp_shell.lab.tracker import SessionTracker
from smtp_shell.lab.web import pages
from smtp_shell.lab.web.board import Board
from smtp_shell.lab.web.hub import Hub, session_view

log = logging.getLogger("smtp_shell.lab")

STATIC = Path(__file__).parent / "static"
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            "frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
PART_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
_FOLDER = re.compile(r"^[a-z0-9][a-z0-9._@+-]*$")
_ID = re.compile(r"^\d{8}T\d{6}Z-\d{6,}$")
TOKEN_COOKIE = "smtp_shell_lab_token"


@web.middleware
async def _headers(request: web.Request, handler):
    response = await handler(request)
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _token_middleware(token: str):
    @web.middleware
    async def check(request: web.Request, handler):
        given = request.query.get("token") or request.cookies.get(TOKEN_COOKIE) or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            return web.Response(status=401, text="This lab web view needs the token printed when the lab started: "
                                                 "open the URL with ?token=… once.\n")
        response = await handler(request)
        if request.query.get("token"):
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict")
        return response
    return check


@dataclass
class WebContext:
    tracker: SessionTracker
    mailbox: Mailbox
    hub: Hub


def make_app(tracker: SessionTracker, mailbox: Mailbox, token: str | None = None,
             stuck_after: float = 300.0, roster: tuple[str, ...] = ()) -> web.Application:
    middlewares = [_headers] + ([_token_middleware(token)] if token else [])
    app = web.Application(middlewares=middlewares)
    board = Board(tracker, stuck_after=stuck_after, roster=roster)
    ctx = WebContext(tracker, mailbox, Hub(tracker, board))

    def html(text: str) -> web.Response:
        return web.Response(text=text, content_type="text/html", charset="utf-8")

    async def board_page(request):
        return html(pages.board_page())

    async def sessions_page(request):
        return html(pages.sessions_page())

    async def session_page(request):
        return html(pages.session_page(int(request.match_info["number"])))

    async def session_json(request):
        session = tracker.get(int(request.match_info["number"]))
        if session is None:
            raise web.HTTPNotFound(text="no such session\n")
        return web.json_response(session_view(session, tracker))

    async def board_json(request):
        return web.json_response(ctx.hub.snapshot())

    async def events(request):
        number = request.query.get("session")
        sub = ctx.hub.subscribe(int(number) if number and number.isdigit() else None)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
        await response.prepare(request)
        try:
            while True:
                try:
                    item = await asyncio.wait_for(sub.queue.get(), timeout=15)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if item is None:
                    break
                kind, data = item
                await response.write(f"event: {kind}\ndata: {data}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            ctx.hub.unsubscribe(sub)
        return response

    async def inbox(request):
        wanted = request.query.get("mailbox")
        loop = asyncio.get_running_loop()
        messages = await loop.run_in_executor(None, mailbox.messages)
        folders = sorted(p.name for p in mailbox.root.iterdir()
                         if p.is_dir() and not p.name.startswith(("_", "."))) if mailbox.root.is_dir() else []
        if wanted:
            messages = [m for m in messages if m.path.parent.name == wanted]
        messages.reverse()  # newest first
        return html(await loop.run_in_executor(None, pages.inbox, messages, wanted, folders))

    def find(request) -> StoredMessage:
        folder, ident = request.match_info["folder"], request.match_info["id"]
        if not _FOLDER.match(folder) or not _ID.match(ident):
            raise web.HTTPNotFound(text="no such message\n")
        path = mailbox.root / folder / f"{ident}.eml"
        if not path.is_file():
            raise web.HTTPNotFound(text="no such message\n")
        return StoredMessage(path)

    async def message(request):
        stored = find(request)
        return html(pages.message_page(stored, stored.parse()))

    async def raw(request):
        return web.Response(body=find(request).read(), content_type="text/plain", charset="utf-8")

    async def eml(request):
        stored = find(request)
        return web.Response(body=stored.read(), content_type="message/rfc822", headers={
            "Content-Disposition": f'attachment; filename="{stored.id}.eml"'})

    async def part(request):
        stored = find(request)
        wanted = int(request.match_info["n"])
        leaves = [p for p in stored.parse().walk() if not p.is_multipart()]
        if not 1 <= wanted <= len(leaves) or leaves[wanted - 1].get_content_type() != "text/html":
            raise web.HTTPNotFound(text="no such HTML part\n")
        chosen = leaves[wanted - 1]
        payload = chosen.get_payload(decode=True) or b""
        charset = chosen.get_content_charset() or "utf-8"
        try:
            text = payload.decode(charset, "replace")
        except LookupError:
            text = payload.decode("utf-8", "replace")
        return web.Response(text=text, content_type="text/html", charset="utf-8",
                            headers={"Content-Security-Policy": PART_CSP})

    app.router.add_get("/", board_page)
    app.router.add_get("/sessions", sessions_page)
    app.router.add_get(r"/session/{number:\d+}", session_page)
    app.router.add_get(r"/api/session/{number:\d+}", session_json)
    app.router.add_get("/api/board", board_json)
    app.router.add_get("/events", events)
    app.router.add_get("/inbox", inbox)
    app.router.add_get("/message/{folder}/{id}", message)
    app.router.add_get("/message/{folder}/{id}/raw", raw)
    app.router.add_get("/message/{folder}/{id}/eml", eml)
    app.router.add_get(r"/message/{folder}/{id}/part/{n:\d+}", part)
    app.router.add_static("/static/", STATIC, show_index=False)

    async def closing(_app):
        ctx.hub.close_all()
    app.on_shutdown.append(closing)
    return app


class WebView:
    """The web view running in a started LabServer's event loop."""

    def __init__(self, server, tracker: SessionTracker, host: str, port: int,
                 stuck_after: float = 300.0, roster: tuple[str, ...] = ()) -> None:
        self.server = server
        self.tracker = tracker
        self.host = host
        self.port = port
        self.token = None if is_loopback(host) else secrets.token_urlsafe(16)
        self.stuck_after = stuck_after
        self.roster = roster
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{format_hostport(self.host, self.port)}/" + (f"?token={self.token}" if self.token else "")

    async def _start(self) -> None:
        app = make_app(self.tracker, Mailbox(self.server.mailbox), self.token, self.stuck_after, self.roster)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def start(self) -> None:
        asyncio.run_coroutine_threadsafe(self._start(), self.server.loop).result(timeout=15)

    def stop(self) -> None:
        if self._runner is not None and self.server.loop is not None and self.server.loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.server.loop).result(timeout=10)
            except Exception:  # the lab is stopping anyway; say why the web view did not close cleanly
                log.exception("the lab's web view did not shut down cleanly")
        self._runner = None


def start_web(server, tracker: SessionTracker, host: str, port: int, **options) -> WebView:
    """Serve the web view from `server`'s loop (the server must be started, `tracker` observing it)."""
    view = WebView(server, tracker, host, port, **options)
    view.start()
    return view

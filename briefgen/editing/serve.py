"""serve: show the output folder's briefings in a browser, rebuilt and reloaded on save.

A small HTTP server (standard library, one thread per request) serves the HTML and PDF
files under the output folder and nothing else: no path that climbs out of it, no hidden
file (the build manifest), no symlink leading elsewhere. It binds to 127.0.0.1 unless
told otherwise and, when bound to loopback, answers only requests addressed to a
loopback name, so a web page elsewhere cannot read a briefing through DNS rebinding.

The watch loop (:mod:`briefgen.watch`) runs in a background thread. Served HTML pages get
a short script, added to the response only, that asks ``/__briefgen/version`` once a
second and reloads the page when a rebuild wrote new HTML; while the facts are broken it
shows the problems in a banner. The files on disk never contain it: they stay
script-free, as the build's self-check demands.
"""

from __future__ import annotations

import html
import ipaddress
import json
import secrets
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from ..errors import UsageError

VERSION_PATH = "/__briefgen/version"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".pdf": "application/pdf"}
POLL_MS = 1000

_RELOAD_JS = """(function () {
  var seen = %(version)d, box = null;
  function show(s) {
    if (s.ok) { if (box) { box.remove(); box = null; } return; }
    if (!box) {
      box = document.createElement("div");
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;left:0;right:0;top:0;z-index:99999;max-height:40vh;overflow:auto;" +
        "background:#7a1f1f;color:#fff;font:13px/1.4 monospace;padding:8px 12px;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = "briefgen: the facts have problems; showing the last good build.\\n" + s.problems.join("\\n");
  }
  function tick() {
    fetch("%(endpoint)s", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (s) {
      if (s.version !== seen) { location.reload(); return; }
      show(s);
      setTimeout(tick, %(poll)d);
    }).catch(function () { setTimeout(tick, %(poll)d * 3); });
  }
  setTimeout(tick, %(poll)d);
})();"""


def reload_script(version: int, nonce: str) -> bytes:
    """The ``<script>`` element added to served pages (never to files)."""
    js = _RELOAD_JS % {"version": version, "endpoint": VERSION_PATH, "poll": POLL_MS}
    return f'<script nonce="{nonce}" data-briefgen-reload>{js}</script>\n'.encode()


def inject(page: bytes, snippet: bytes) -> bytes:
    """``page`` with ``snippet`` just before its last ``</body>`` (appended if there is none),
    and without the page's own Content-Security-Policy ``<meta>``, which allows no script:
    the response's header says the same, plus the nonce of the reload script."""
    from ..briefing.selfcheck import CSP

    own = f'<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP)}">\n'.encode()
    page = page.replace(own, b"", 1)
    at = page.lower().rfind(b"</body>")
    return page + snippet if at < 0 else page[:at] + snippet + page[at:]


def resolve_under(root: Path, url_path: str) -> Path | None:
    """The file or folder under ``root`` that a URL path names, or None when the path is
    not allowed: '..' or hidden segments, backslashes, NUL, or a symlink leading out."""
    path = unquote(url_path)
    if "\\" in path or "\0" in path:
        return None
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if any(p == ".." or p.startswith(".") for p in parts):
        return None
    base = root.resolve()
    target = base.joinpath(*parts).resolve()
    # Checked after resolving: a symlink inside the output folder must not lead out of it.
    if target != base and not target.is_relative_to(base):
        return None
    return target


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BriefingServer(ThreadingHTTPServer):
    """Serves ``root`` (the output folder) with the reload hook; ``status`` gives the
    watcher's state (a dict with at least ``version``)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    """Connections the system queues while every handler is busy (a page and its reloads
    from several tabs at once)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser that closes a connection early (a reload, a closed tab) is not a
        # problem to report; anything else is logged in a line, without a traceback.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        if self.log:
            self.log(f"{client_address[0]}: request failed: {type(exc).__name__}: {exc}")

    def __init__(
        self,
        address: tuple[str, int],
        root: Path,
        status: Callable[[], dict[str, Any]],
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.root = root
        self.status = status
        self.log = log
        self.loopback_only = _loopback(address[0])
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.socket.getsockname()[:2]
        shown = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}/"


class _Handler(BaseHTTPRequestHandler):
    server: BriefingServer
    server_version = "briefgen-serve"
    sys_version = ""
    timeout = 10
    """Seconds a client may take to send its request (a half-sent request ties up a thread)."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib's name)
        if self.server.log:
            self.server.log(f"{self.address_string()} {format % args}")

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def do_GET(self) -> None:
        self._respond(head=False)

    def _respond(self, head: bool) -> None:
        if self.server.loopback_only and not self._host_is_loopback():
            self._send(
                HTTPStatus.FORBIDDEN,
                b"forbidden: address this server as 127.0.0.1 or localhost\n",
                "text/plain; charset=utf-8",
                head,
            )
            return
        path = urlsplit(self.path).path or "/"
        if path == VERSION_PATH:
            body = json.dumps(self.server.status()).encode()
            self._send(HTTPStatus.OK, body, "application/json", head)
            return
        target = resolve_under(self.server.root, path)
        if target is None:
            self._send(
                HTTPStatus.FORBIDDEN,
                b"forbidden: only files inside the output folder are served\n",
                "text/plain; charset=utf-8",
                head,
            )
            return
        if target.is_dir():
            if not path.endswith("/"):
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", quote(path) + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send_page(self._index(target, path), head)
            return
        kind = CONTENT_TYPES.get(target.suffix.lower())
        if kind is None or not target.is_file():
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", head)
            return
        try:
            data = target.read_bytes()
        except OSError:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", head)
            return
        if target.suffix.lower() == ".html":
            self._send_page(data, head)
        else:
            self._send(HTTPStatus.OK, data, kind, head)

    def _host_is_loopback(self) -> bool:
        host = self.headers.get("Host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return _loopback(name.strip("[]") or "localhost")

    def _index(self, folder: Path, url_path: str) -> bytes:
        rows = []
        for p in sorted(folder.iterdir()):
            if p.name.startswith("."):
                continue
            if p.is_dir():
                rows.append(f'<li><a href="{quote(p.name)}/">{html.escape(p.name)}/</a></li>')
            elif p.suffix.lower() in CONTENT_TYPES:
                rows.append(f'<li><a href="{quote(p.name)}">{html.escape(p.name)}</a></li>')
        items = "\n".join(rows) or "<li>nothing built yet</li>"
        title = html.escape(f"briefgen: {url_path}")
        return (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>\n'
            f"<body><h1>{title}</h1>\n<ul>\n{items}\n</ul>\n</body></html>\n"
        ).encode()

    def _send_page(self, page: bytes, head: bool) -> None:
        nonce = secrets.token_urlsafe(16)
        body = inject(page, reload_script(int(self.server.status().get("version", 0)), nonce))
        # The page may run our script only: no other script, no loads from elsewhere.
        csp = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
            f"script-src 'nonce-{nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'"
        )
        self._send(HTTPStatus.OK, body, CONTENT_TYPES[".html"], head, {"Content-Security-Policy": csp})

    def _send(self, code: HTTPStatus, body: bytes, kind: str, head: bool, extra: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)


def make_server(
    root: Path,
    status: Callable[[], dict[str, Any]],
    host: str = "127.0.0.1",
    port: int = 0,
    log: Callable[[str], None] | None = None,
) -> BriefingServer:
    """Bind a :class:`BriefingServer` (port 0: any free port). A port in use or a host
    that cannot be bound is a UsageError."""
    try:
        return BriefingServer((host, port), root, status, log)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port or --host"
        ) from None


def serve(
    watcher: Any,
    con: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    verbose: bool = False,
    stop: threading.Event | None = None,
    ready: Callable[[BriefingServer], None] | None = None,
) -> int:
    """Build the HTML at once, serve the output folder, and keep rebuilding in a background
    thread until Ctrl-C (or ``stop``). Returns the exit code (0)."""
    stop = stop or threading.Event()
    server = make_server(watcher.options.out, watcher.status, host, port, con.info if verbose else None)
    serving = False
    try:
        watcher.build(("html",), raise_usage=True)
        thread = threading.Thread(
            target=watcher.run, kwargs={"first": ("pdf",), "stop": stop}, name="briefgen-watch", daemon=True
        )
        thread.start()
        if not server.loopback_only:
            con.info(f"warning: serving to the network on {host}; anyone who can reach it can read the briefings")
        con.info(f"serving {watcher.options.out} at {server.url} (Ctrl-C to stop)")
        if ready:
            ready(server)
        server_thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        server_thread.start()
        serving = True
        # The main thread only waits, so Ctrl-C always reaches it promptly.
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        if serving:  # shutdown() waits for serve_forever, so only call it once that runs
            server.shutdown()
        server.server_close()
    con.info("stopped serving")
    return 0

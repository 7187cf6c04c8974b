"""A tiny threaded HTTP server base for the fakes: JSON helpers, routing by method + path."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


class Reply:
    def __init__(self, status: int = 200, body: Any = None, *, headers: dict[str, str] | None = None,
                 raw: bytes | None = None, content_type: str = "application/json",
                 pause_at: int | None = None, pause: Any = None):
        self.status = status
        self.pause_at, self.pause = pause_at, pause  # write `pause_at` bytes, call pause(), write the rest
        self.body = body
        self.headers = headers or {}
        self.raw = raw
        self.content_type = content_type

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body).encode() if self.body is not None else b""


class FakeServer:
    """Subclasses implement `handle(method, path, query, headers, body) -> Reply`."""

    def __init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw and "json" in (self.headers.get("Content-Type") or "") else raw
                except json.JSONDecodeError:
                    body = raw
                u = urlparse(self.path)
                reply = fake.handle(self.command, u.path, parse_qs(u.query),
                                    {k.lower(): v for k, v in self.headers.items()}, body)
                if reply is None:  # drop the connection (a reset, as the client sees it)
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                data = reply.payload()
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                if reply.pause is not None and reply.pause_at is not None:
                    self.wfile.write(data[: reply.pause_at])
                    self.wfile.flush()
                    reply.pause()
                    data = data[reply.pause_at:]
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> "FakeServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: Any) -> Reply | None:
        raise NotImplementedError

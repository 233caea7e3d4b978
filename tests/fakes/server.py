"""A threaded loopback HTTP/1.1 server whose routes return scripted, optionally streamed, responses."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """What the fake sends: status, headers, and body chunks (each flushed; `delay` seconds between them)."""

    status: int = 200
    chunks: Iterable[bytes] = ()
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0
    # Drop the connection after this many chunks (a stream cut halfway).
    cut_after: int | None = None
    # Sleep this long before answering (a hang past the timeout).
    hang: float = 0.0

    @classmethod
    def json(cls, data: object, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, [json.dumps(data).encode()], headers or {})


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


Route = Callable[[Seen], Reply]


class FakeServer:
    """Routes are matched by (method, path prefix); every request is kept in `seen` for assertions."""

    def __init__(self, routes: dict[tuple[str, str], Route | Reply | list[Reply]] | None = None) -> None:
        self.routes: dict[tuple[str, str], Route | Reply | list[Reply]] = dict(routes or {})
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                server.seen.append(seen)
                reply = server._reply(seen)
                if reply.hang:
                    time.sleep(reply.hang)
                self.send_response(reply.status)
                self.send_header("content-type", reply.content_type)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                try:
                    for i, chunk in enumerate(reply.chunks):
                        if reply.cut_after is not None and i >= reply.cut_after:
                            self.wfile.flush()
                            self.close_connection = True
                            self.connection.shutdown(2)
                            return
                        if reply.delay:
                            time.sleep(reply.delay)
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, OSError):
                    self.close_connection = True

            do_GET = do_POST = do_DELETE = do_HEAD = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def _reply(self, seen: Seen) -> Reply:
        path = seen.path.split("?")[0]
        best = None
        for (method, prefix), route in self.routes.items():
            if method == seen.method and path.startswith(prefix) and (best is None or len(prefix) > len(best[0][1])):
                best = ((method, prefix), route)
        if best is None:
            return Reply.json({"error": f"no route for {seen.method} {path}"}, 404)
        route = best[1]
        if isinstance(route, list):  # a script: one reply per call, the last one repeats
            return route.pop(0) if len(route) > 1 else route[0]
        if isinstance(route, Reply):
            return route
        return route(seen)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

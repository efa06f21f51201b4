"""What the fake servers share: a quiet HTTP/1.1 handler and a threaded server on 127.0.0.1."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real APIs and CDNs speak

    def log_message(self, *args: object) -> None:
        pass  # test output stays readable

    def send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(handler: type[BaseHTTPRequestHandler], port: int = 0) -> ThreadingHTTPServer:
    """Start serving on 127.0.0.1 in a daemon thread; `server.shutdown()` stops it."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop(server: ThreadingHTTPServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()


class ServedFake:
    """What every fake shares once started: its address, stopping, running on its own."""

    _server: ThreadingHTTPServer | None

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        stop(self._server)

    def run_until_interrupted(self, banner: str) -> None:
        print(banner, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            self.stop()

"""Loopback servers that play misbehaving git remotes in tests.

Each is a context manager that binds ``127.0.0.1`` on a free port, serves from a daemon
thread, and shuts down (closing every connection) on exit.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Loopback:
    """A running test server: its base URL and what it has seen."""

    host: str
    port: int
    requests: list[str] = field(default_factory=list)
    connections: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class _Always401(BaseHTTPRequestHandler):
    """Answers every request with ``401`` and a Basic challenge, like a private repo."""

    server: _RecordingServer

    def _deny(self) -> None:
        self.server.loopback.requests.append(f"{self.command} {self.path}")
        body = b"Authentication required\n"
        self.send_response(401, "Unauthorized")
        self.send_header("WWW-Authenticate", 'Basic realm="gitoverit-test"')
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _deny
    do_POST = _deny
    do_HEAD = _deny

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


class _RecordingServer(ThreadingHTTPServer):
    daemon_threads = True
    loopback: Loopback


@contextmanager
def http_401_server() -> Iterator[Loopback]:
    """An HTTP server on loopback that demands credentials and rejects any it gets."""
    server = _RecordingServer(("127.0.0.1", 0), _Always401)
    host, port = server.server_address[:2]
    server.loopback = Loopback(str(host), int(port))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server.loopback
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def silent_tcp_server() -> Iterator[Loopback]:
    """A TCP server on loopback that accepts connections and never sends a byte."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.05)
    host, port = listener.getsockname()[:2]
    loopback = Loopback(str(host), int(port))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_forever() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            loopback.connections += 1

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    try:
        yield loopback
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        for conn in held:
            conn.close()

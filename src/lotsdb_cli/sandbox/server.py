"""The socket side: a threading HTTP/1.1 server (keep-alive, TCP_NODELAY, one thread per
connection) that turns bytes into Requests for the SandboxService and Responses into bytes."""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lotsdb_cli.sandbox.messages import Request, Response
from lotsdb_cli.sandbox.problems import problem
from lotsdb_cli.sandbox.service import SandboxService

log = logging.getLogger(__name__)
IDLE_CONNECTION_TIMEOUT = 120.0
NO_BODY_STATUSES = frozenset({204, 304})


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], service: SandboxService) -> None:
        self.service = service
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, SandboxRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall on a bad resolver.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, client_address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._connections_lock:
            self._connections.add(connection)
        return connection, client_address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-request is normal (a killed dump); anything else is logged."""
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            log.debug("client %s went away: %s", client_address, error)
            return
        super().handle_error(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        """Hang up on keep-alive clients so their handler threads end with the server."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lotsdb-sandbox"
    timeout = IDLE_CONNECTION_TIMEOUT
    server: SandboxHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """No per-request logging."""

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        body = self._read_body()
        if body is None:
            return
        path, _, query_string = self.path.partition("?")
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(self.command, path, query_string, headers, body)
        try:
            response = self.server.service.handle(request)
        except Exception:
            log.exception("sandbox: unhandled error answering %s %s", self.command, path)
            response = problem(500, "The sandbox failed to answer.", path)
        self._send(response)

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            self._send(problem(411, "Send a Content-Length; chunked bodies are not supported.", ""))
            return None
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: Response) -> None:
        if response.action == "close":
            self._hang_up()
            return
        head = self._head(response)
        if response.action == "slow":
            self.wfile.write(head)
            self.server.service.state.stopping.wait(response.hold_seconds)
            self._hang_up()
            return
        send_body = self.command != "HEAD" and response.status not in NO_BODY_STATUSES
        self.wfile.write(head + response.body if send_body else head)

    def _head(self, response: Response) -> bytes:
        lines = [
            f"HTTP/1.1 {response.status} {_reason(response.status)}",
            f"Date: {formatdate(usegmt=True)}",
            f"Server: {self.server_version}",
        ]
        if response.content_type and response.status not in NO_BODY_STATUSES:
            lines.append(f"Content-Type: {response.content_type}")
        if response.status not in NO_BODY_STATUSES:
            length = response.announced_length
            lines.append(f"Content-Length: {len(response.body) if length is None else length}")
        lines.extend(f"{name}: {value}" for name, value in response.headers.items())
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")

    def _hang_up(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"

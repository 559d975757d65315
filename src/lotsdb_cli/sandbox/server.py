"""The socket side: a threading HTTP/1.1 server (keep-alive, TCP_NODELAY, one thread per
connection) that turns bytes into Requests for the SandboxService and Responses into bytes."""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import socketserver
import threading
import time
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from lotsdb_cli.sandbox.framing import (
    RequestLine,
    Unreadable,
    body_framing,
    expects_continue,
    field_values,
    keeps_alive,
    read_body,
    read_fields,
    read_request_line,
)
from lotsdb_cli.sandbox.messages import Request, Response
from lotsdb_cli.sandbox.problems import problem
from lotsdb_cli.sandbox.service import SandboxService

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

log = logging.getLogger(__name__)
IDLE_CONNECTION_TIMEOUT = 120.0
# How long a whole request (head and body) may take to arrive once it has begun: Kestrel's
# RequestHeadersTimeout. A client sending its headers slowly is answered 408 after it.
REQUEST_TIMEOUT = 30.0
NO_BODY_STATUSES = frozenset({204, 304})
# How long, and how many reads, a refused request's remaining input is drained before closing.
LINGER_SECONDS = 2.0
LINGER_READS = 512


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(
        self, address: tuple[str, int], service: SandboxService, request_timeout: float = REQUEST_TIMEOUT
    ) -> None:
        self.service = service
        self.request_timeout = request_timeout
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


class ArrivalReader(io.RawIOBase):
    """The connection's read side. While `deadline` is set (a request is being read) each read
    waits only for what is left of it, so a client trickling its head or body byte by byte
    cannot hold the request open past the deadline; between requests reads wait the idle timeout."""

    def __init__(self, connection: socket.socket, idle_timeout: float) -> None:
        super().__init__()
        self._connection = connection
        self._idle_timeout = idle_timeout
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        self._connection.settimeout(self._wait_allowed())
        return self._connection.recv_into(buffer)

    def _wait_allowed(self) -> float:
        if self.deadline is None:
            return self._idle_timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request did not arrive in time")
        return left


class SandboxRequestHandler(BaseHTTPRequestHandler):
    """Reads requests itself (framing.py) instead of BaseHTTPRequestHandler's parse_request, which
    answers what it cannot parse with HTML pages, 501 for methods without a do_ method, and
    nothing at all for a body it cannot frame."""

    protocol_version = "HTTP/1.1"
    server_version = "lotsdb-sandbox"
    timeout = IDLE_CONNECTION_TIMEOUT
    server: SandboxHTTPServer

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # the stream setup() made; reads go through the arrival clock instead
        self._arrival = ArrivalReader(self.connection, IDLE_CONNECTION_TIMEOUT)
        self._stream = io.BufferedReader(self._arrival)
        self.rfile = self._stream
        self._line: RequestLine | None = None

    def log_message(self, format: str, *args: Any) -> None:
        """No per-request logging."""

    def handle_one_request(self) -> None:
        """Wait for a request (a kept-alive connection may idle), read all of it before the
        server's request timeout, and answer it."""
        self.close_connection = True
        self._line = None
        self.command = ""  # until a request line is read
        if not self._request_begins():
            return
        self._arrival.deadline = time.monotonic() + self.server.request_timeout
        try:
            request = self._read_request()
        except Unreadable as refusal:
            self._line = refusal.line or self._line
            self._refuse(refusal.status, refusal.detail)
            return
        except TimeoutError:
            self._refuse(408, "The request did not arrive in time.")
            return
        finally:
            self._arrival.deadline = None
        if request is not None:
            self._send(self._answer(request))

    def _request_begins(self) -> bool:
        try:
            return self._stream.peek(1) != b""
        except TimeoutError:  # a kept-alive connection left idle: close it quietly
            return False

    def _read_request(self) -> Request | None:
        line = read_request_line(self._stream)
        if line is None:
            return None
        self._line = line
        self.command, self.path, self.request_version = line.method, line.target, f"HTTP/1.{line.version[1]}"
        fields = read_fields(self._stream, line.version)
        framing = body_framing(fields, line.version)
        self.close_connection = framing.close_after or not keeps_alive(fields, line.version)
        if framing.has_body and expects_continue(fields, line.version):
            self._write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = read_body(self._stream, framing)
        return Request(line.method, line.raw_path, line.query_string, field_values(fields), body)

    def _answer(self, request: Request) -> Response:
        try:
            return self.server.service.handle(request)
        except Exception:
            log.exception("sandbox: unhandled error answering %s %s", request.method, request.path)
            return problem(500, "The sandbox failed to answer.", request.path)

    def _refuse(self, status: int, detail: str) -> None:
        """Answer a request that could not be read, then hang up."""
        self.close_connection = True
        line = self._line
        unread = Request(line.method, line.raw_path, line.query_string) if line else Request("", "/")
        self._send(self.server.service.refuse(unread, status, detail))
        self._linger()

    def _linger(self) -> None:
        """Read and drop what the client is still sending before closing: closing a socket with
        unread input resets the connection, and the client may lose the answer it was sent."""
        deadline = time.monotonic() + LINGER_SECONDS
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_WR)
            for _ in range(LINGER_READS):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self.connection.settimeout(left)
                if not self.connection.recv(64 * 1024):
                    return

    def _write(self, data: bytes) -> None:
        self.connection.settimeout(IDLE_CONNECTION_TIMEOUT)  # reads may have shortened it
        self.wfile.write(data)

    def _send(self, response: Response) -> None:
        if response.action == "close":
            self._hang_up()
            return
        head = self._head(response)
        if response.action == "slow":
            self._write(head)
            self.server.service.state.stopping.wait(response.hold_seconds)
            self._hang_up()
            return
        send_body = self.command != "HEAD" and response.status not in NO_BODY_STATUSES
        self._write(head + response.body if send_body else head)

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

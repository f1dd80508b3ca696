"""The emulator's HTTPS server: authentication, the request log, faults, read-only enforcement.

Requests are answered on keep-alive HTTP/1.1 connections, each reply written in one piece with
TCP_NODELAY set: a reply split over two writes waits for the client's delayed ACK (~40 ms) before its
second half leaves, which would make every SDK call slow.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import shutil
import socket
import socketserver
import struct
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from uuid import uuid4

from auditor.emulator.estate import Estate
from auditor.emulator.faults import Fault, FaultPlan
from auditor.emulator.paths import decode_path
from auditor.emulator.resource_graph import (
    DEFAULT_QUOTA,
    DEFAULT_WINDOW_SECONDS,
    ResourceGraph,
    UserQuota,
    is_resource_graph_path,
)
from auditor.emulator.responses import Reply, error_code_for, error_reply
from auditor.emulator.routing import Router, is_graph_path
from auditor.emulator.tls import issue_local_tls

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "emulator-token"  # noqa: S105 - a published placeholder, only valid against the emulator
# A keep-alive connection idle this long is closed, so a long-running emulator does not keep threads
# for clients that went away without closing.
IDLE_TIMEOUT_SECONDS = 120.0
# Request bodies are read (a Resource Graph query) or thrown away (every write is refused); a larger one
# ends the connection.
MAX_BODY = 16 * 1024 * 1024
# The body of a "malformed" fault: a JSON list response cut off mid-way.
MALFORMED_BODY = b'{"value": [{"id": "/subscriptions/'
_SERVE_POLL_SECONDS = 0.02
_LISTEN_BACKLOG = 128


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator received it: method, percent-decoded path, raw query string."""

    method: str
    path: str
    query: str

    @property
    def params(self) -> dict[str, str]:
        """Decoded query parameters (the first value of each)."""
        found: dict[str, str] = {}
        for key, value in parse_qsl(self.query, keep_blank_values=True):
            found.setdefault(key, value)
        return found


class _RequestLog:
    """Every request received, appended from handler threads, and how many were being handled at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []
        self._handling = 0
        self.peak_handling = 0

    @contextlib.contextmanager
    def handling(self) -> Iterator[None]:
        """Count one request as being handled for the block."""
        with self._lock:
            self._handling += 1
            self.peak_handling = max(self.peak_handling, self._handling)
        try:
            yield
        finally:
            with self._lock:
                self._handling -= 1

    def append(self, request: RecordedRequest) -> None:
        with self._lock:
            self._items.append(request)

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.peak_handling = self._handling


class _Service:
    """Decides the reply to one request; ``None`` means drop the connection without one."""

    def __init__(
        self,
        *,
        router: Router,
        resource_graph: ResourceGraph,
        faults: FaultPlan,
        token: str,
        latency_ms: int,
        log: _RequestLog,
        host: str,
        port: int,
    ) -> None:
        self._router = router
        self._resource_graph = resource_graph
        self._faults = faults
        self._expected_authorization = f"bearer {token}".encode()
        self._latency_seconds = latency_ms / 1000
        self._log = log
        self._default_base_url = f"https://{host}:{port}"
        self._known_hosts = {f"{name}:{port}".lower() for name in (host, "127.0.0.1", "localhost")}

    def respond(
        self, method: str, target: str, authorization: str | None, host: str | None, body: bytes = b""
    ) -> Reply | None:
        """The reply to ``method target``, after logging it and applying latency and faults.

        The one POST answered is Resource Graph's query, which reads; every other method but GET is refused.
        """
        with self._log.handling():
            return self._respond(method, target, authorization, host, body)

    def _respond(
        self, method: str, target: str, authorization: str | None, host: str | None, body: bytes
    ) -> Reply | None:
        split = urlsplit(target)
        raw_path = split.path or "/"
        try:
            path = decode_path(raw_path)
        except UnicodeDecodeError:
            self._log.append(RecordedRequest(method, raw_path, split.query))
            return error_reply(400, "InvalidRequestUri", "The request path is not valid UTF-8 once decoded.")
        self._log.append(RecordedRequest(method, path, split.query))
        if self._latency_seconds:
            time.sleep(self._latency_seconds)
        graph = is_graph_path(path)
        if not self._authorized(authorization):
            code = "InvalidAuthenticationToken" if graph else "AuthenticationFailed"
            return error_reply(401, code, "Authentication failed: send 'Authorization: Bearer <token>'.")
        fault = self._faults.take(method, path)
        if fault is not None:
            if fault.latency_ms:
                time.sleep(fault.latency_ms / 1000)
            if fault.reset:
                return None
            injected = _fault_reply(fault, method, path, self._base_url(host) + target)
            if injected is not None:
                return injected
        if method == "POST" and is_resource_graph_path(path):
            return self._resource_graph.answer(split.query, body)
        if method != "GET":
            return error_reply(
                405,
                "MethodNotAllowed",
                f"The emulator serves reads only; {method} {path} was refused.",
                (("Allow", "GET"),),
            )
        return self._router.answer_get(raw_path, path, split.query, self._base_url(host))

    def _authorized(self, authorization: str | None) -> bool:
        if authorization is None:
            return False
        # Only the scheme is case-insensitive; the token must match exactly.
        scheme, _, token = authorization.strip().partition(" ")
        offered = f"{scheme.lower()} {token.strip()}".encode()
        return hmac.compare_digest(offered, self._expected_authorization)

    def _base_url(self, host: str | None) -> str:
        # Graph's nextLink is absolute: point it at the name the client used, if it is one of ours.
        if host is not None and host.strip().lower() in self._known_hosts:
            return f"https://{host.strip()}"
        return self._default_base_url


def _fault_reply(fault: Fault, method: str, path: str, url: str) -> Reply | None:
    """The reply an injected fault gives in place of the real one; None if it only adds latency."""
    if fault.body is not None:
        headers = (("Retry-After", fault.retry_after),) if fault.retry_after is not None else ()
        body = fault.body.replace("$REQUEST_URL", url).encode("utf-8")
        return Reply(fault.status or 200, body, headers)
    if fault.malformed:
        return Reply(200, MALFORMED_BODY)
    if fault.status is not None:
        headers = (("Retry-After", fault.retry_after),) if fault.retry_after is not None else ()
        code = fault.error_code or error_code_for(fault.status)
        return error_reply(fault.status, code, f"Injected fault for {method} {path}.", headers)
    return None


class _Server(ThreadingHTTPServer):
    """A threading HTTPS server that tracks its connections so it can stop quickly and reset on demand."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = _LISTEN_BACKLOG
    service: _Service

    def __init__(self, address: tuple[str, int], context: Any) -> None:
        self._tls_context = context
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._resets: set[socket.socket] = set()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can take seconds on a badly set up resolver.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def get_request(self) -> tuple[socket.socket, Any]:
        raw, address = self.socket.accept()
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # The handshake runs in the handler's thread (see _Handler.setup), not in the accept loop,
            # so a client that never completes it cannot stall the server.
            connection: socket.socket = self._tls_context.wrap_socket(
                raw, server_side=True, do_handshake_on_connect=False
            )
        except OSError:
            raw.close()
            raise
        with self._lock:
            self._connections.add(connection)
        return connection, address

    def drop_after_reply(self, connection: socket.socket) -> None:
        """Close this connection with a TCP reset once its handler returns."""
        with self._lock:
            self._resets.add(connection)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._connections.discard(request)
            reset = request in self._resets
            self._resets.discard(request)
        if not reset:
            super().shutdown_request(request)
            return
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        try:
            request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            logger.debug("connection was already gone before the injected reset", exc_info=True)
        self.close_request(request)

    def close_connections(self) -> None:
        """End every open keep-alive connection so handler threads return at once."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                # socket.socket's own shutdown, not SSLSocket's, which would also drop the TLS state the
                # handler thread is still reading through.
                socket.socket.shutdown(connection, socket.SHUT_RDWR)
            except OSError:
                logger.debug("connection closed while stopping", exc_info=True)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-request or fail the TLS handshake are normal here; keep stderr quiet.
        logger.debug("emulator request from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    """Hands each request to the service and writes its reply in one piece."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_SECONDS
    server: _Server

    def setup(self) -> None:
        self.request.settimeout(self.timeout)
        self.request.do_handshake()
        super().setup()

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.command == "GET":
            return True
        # Every other method (PUT, POST, HEAD, MERGE, ...) is logged and refused here, where the base
        # class would answer a method it has no do_* for with an unlogged 501. False ends this request.
        self._serve()
        return False

    def do_GET(self) -> None:
        """Serve a read."""
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet; the request log records what tests need."""

    def _serve(self) -> None:
        body = self._read_body()
        reply = self.server.service.respond(
            self.command, self.path, self.headers.get("Authorization"), self.headers.get("Host"), body
        )
        if reply is None:
            self.close_connection = True
            self.server.drop_after_reply(self.request)
            return
        self._write(reply)

    def _read_body(self) -> bytes:
        """The request body (a Resource Graph query; any other is ignored), or b"" if it cannot be read."""
        if self.headers.get("Transfer-Encoding"):
            # Chunked bodies are not parsed; closing after the reply keeps the stream in step.
            self.close_connection = True
            return b""
        length_text = self.headers.get("Content-Length")
        if not length_text:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            self.close_connection = True
            return b""
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            return b""
        return self.rfile.read(length)

    def _write(self, reply: Reply) -> None:
        lines = [
            f"HTTP/1.1 {reply.status} {_reason(reply.status)}",
            f"Content-Type: {reply.content_type}",
            f"Content-Length: {len(reply.body)}",
            f"x-ms-request-id: {uuid4()}",
            f"Date: {self.date_time_string()}",
        ]
        lines += [f"{name}: {value}" for name, value in reply.headers]
        if self.close_connection:
            lines.append("Connection: close")
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if self.command != "HEAD":
            payload += reply.body
        self.wfile.write(payload)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


@dataclass(frozen=True)
class _Running:
    """What exists only while the emulator runs."""

    server: _Server
    thread: threading.Thread
    directory: Path
    ca_file: Path


class Emulator:
    """A local HTTPS endpoint speaking ARM and Microsoft Graph, serving one estate; use it as a context manager."""

    def __init__(
        self,
        estate: Estate,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        page_size: int = 100,
        token: str = DEFAULT_TOKEN,
        faults: Iterable[Fault] = (),
        latency_ms: int = 0,
        graph_quota: int = DEFAULT_QUOTA,
        graph_quota_window: float = DEFAULT_WINDOW_SECONDS,
    ) -> None:
        if not token or any(character.isspace() for character in token):
            raise ValueError("token must be a non-empty string without spaces")
        if latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        self._estate = estate
        self._host = host
        self._requested_port = port
        self._router = Router(estate, page_size)
        # Resource Graph's user quota: ``graph_quota`` queries per ``graph_quota_window`` seconds.
        self._resource_graph = ResourceGraph(estate, self._router.index, UserQuota(graph_quota, graph_quota_window))
        self._token = token
        self._faults = (*estate.faults, *faults)
        self._latency_ms = latency_ms
        self._log = _RequestLog()
        self._running_state: _Running | None = None

    def start(self) -> Emulator:
        """Bind, write the CA file and start serving in a background thread."""
        if self._running_state is not None:
            raise RuntimeError("the emulator is already running")
        directory = Path(tempfile.mkdtemp(prefix="auditor-emulator-"))
        try:
            tls = issue_local_tls(directory)
            server = _Server((self._host, self._requested_port), tls.context)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        server.service = _Service(
            router=self._router,
            resource_graph=self._resource_graph,
            faults=FaultPlan(self._faults),
            token=self._token,
            latency_ms=self._latency_ms,
            log=self._log,
            host=self._host,
            port=server.server_port,
        )
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": _SERVE_POLL_SECONDS},
            name=f"emulator-{server.server_port}",
            daemon=True,
        )
        thread.start()
        self._running_state = _Running(server, thread, directory, tls.ca_file)
        return self

    def stop(self) -> None:
        """Stop serving, close every connection and remove the CA file; safe to call twice."""
        running, self._running_state = self._running_state, None
        if running is None:
            return
        running.server.shutdown()
        running.server.close_connections()
        running.server.server_close()
        running.thread.join()
        shutil.rmtree(running.directory, ignore_errors=True)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL to give clients, e.g. ``https://127.0.0.1:50123``."""
        return f"https://{self._host}:{self._running().server.server_port}"

    @property
    def port(self) -> int:
        """The port the emulator listens on."""
        return self._running().server.server_port

    @property
    def ca_file(self) -> Path:
        """The CA certificate (PEM) clients must trust; removed by ``stop()``."""
        return self._running().ca_file

    @property
    def token(self) -> str:
        """The bearer token every request must carry."""
        return self._token

    @property
    def estate(self) -> Estate:
        """The estate being served."""
        return self._estate

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, refused ones included."""
        return self._log.snapshot()

    @property
    def peak_in_flight(self) -> int:
        """The most requests it was handling at one moment (latency included) since it started or was reset."""
        return self._log.peak_handling

    def reset_requests(self) -> None:
        """Forget the requests received so far, and the peak of those in flight."""
        self._log.clear()

    def _running(self) -> _Running:
        if self._running_state is None:
            raise RuntimeError("the emulator is not running; call start() or use it in a with block")
        return self._running_state

"""A fault-injecting HTTP proxy on 127.0.0.1 in front of moto's S3 server (test helper).

Every request is forwarded to the upstream endpoint, except that a seeded
schedule injects, with probability `probability` and within a bounded budget
per kind, one of:

    drop_before  close the connection without forwarding (the request is lost)
    drop_after   forward, then close without answering (the request took effect)
    cut_body     forward, answer with the full Content-Length but only half the body, close
    500          answer 500 InternalError (S3's XML error body)
    503          answer 503 SlowDown
    slow         forward, then wait `slow_seconds` before answering (past the client's read timeout)
    lag          forward, then wait `lag_seconds` before answering (within it)

At most `max_consecutive` faults in a row, so a client with enough retry
attempts always gets through.  `kill()` makes the endpoint go away for good:
the listener closes (connections are refused) and open connections are dropped.
"""

from __future__ import annotations

import collections
import http.client
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

KINDS = ("drop_before", "drop_after", "cut_body", "500", "503", "slow", "lag")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "trailer", "upgrade"}
ERROR_BODY = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>injected by '
    's3_fault_proxy</Message><RequestId>0</RequestId></Error>'
)


class FaultProxy:
    def __init__(
        self,
        upstream: str,
        seed: int = 0,
        budget: dict | None = None,
        probability: float = 0.3,
        max_consecutive: int = 3,
        slow_seconds: float = 1.5,
        lag_seconds: float = 0.3,
    ):
        target = urlparse(upstream)
        self.upstream = (target.hostname, target.port)
        self.rng = random.Random(seed)
        self.budget = dict(budget or {})
        unknown = set(self.budget) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        self.probability = probability
        self.max_consecutive = max_consecutive
        self.slow_seconds = slow_seconds
        self.lag_seconds = lag_seconds
        self.injected: collections.Counter = collections.Counter()
        self.requests = 0
        self.consecutive = 0
        self.dead = False
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # -- the schedule ---------------------------------------------------------

    def decide(self) -> str | None:
        with self.lock:
            self.requests += 1
            if self.consecutive >= self.max_consecutive:
                self.consecutive = 0
                return None
            available = sorted(k for k, n in self.budget.items() if n > 0)
            if available and self.rng.random() < self.probability:
                kind = self.rng.choice(available)
                self.budget[kind] -= 1
                self.injected[kind] += 1
                self.consecutive += 1
                return kind
            self.consecutive = 0
            return None

    @property
    def remaining(self) -> int:
        with self.lock:
            return sum(self.budget.values())

    # -- life cycle -----------------------------------------------------------

    def start(self) -> str:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_one_request(self):
                try:
                    super().handle_one_request()
                except (ConnectionError, socket.timeout, OSError):
                    self.close_connection = True

            def _any(self):
                proxy.handle(self)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def kill(self) -> None:
        """The endpoint goes away for good."""
        self.dead = True
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    stop = kill

    # -- one request ----------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        body = self.read_body(request)
        if self.dead:
            return self.drop(request)
        kind = self.decide()
        if kind == "drop_before":
            return self.drop(request)
        if kind in ("500", "503"):
            code = "InternalError" if kind == "500" else "SlowDown"
            return self.answer(
                request, int(kind), {"Content-Type": "application/xml"}, ERROR_BODY.format(code=code).encode()
            )
        status, headers, payload = self.forward(request, body)
        if kind == "drop_after" or self.dead:
            return self.drop(request)
        if kind == "cut_body" and payload and request.command != "HEAD":
            return self.answer(request, status, headers, payload, cut=True)
        if kind == "slow":
            time.sleep(self.slow_seconds)
        elif kind == "lag":
            time.sleep(self.lag_seconds)
        self.answer(request, status, headers, payload)

    @staticmethod
    def read_body(request) -> bytes:
        if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(request.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while request.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(request.rfile.read(size))
                request.rfile.readline()
        length = int(request.headers.get("Content-Length") or 0)
        return request.rfile.read(length) if length else b""

    def forward(self, request, body: bytes):
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
            if body or request.command in ("PUT", "POST"):
                headers["Content-Length"] = str(len(body))
            connection.request(request.command, request.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            return response.status, [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP], payload
        finally:
            connection.close()

    @staticmethod
    def answer(request, status: int, headers, payload: bytes, cut: bool = False) -> None:
        items = headers.items() if isinstance(headers, dict) else headers
        try:
            request.send_response_only(status)
            has_length = False
            for key, value in items:
                if key.lower() in ("server", "date"):
                    continue
                has_length |= key.lower() == "content-length"
                request.send_header(key, value)
            if not has_length:
                request.send_header("Content-Length", str(len(payload)))
            if cut:
                request.send_header("Connection", "close")
            request.end_headers()
            if request.command != "HEAD":
                request.wfile.write(payload[: len(payload) // 2] if cut else payload)
            request.wfile.flush()
        except OSError:
            pass
        if cut:
            FaultProxy.drop(request)

    @staticmethod
    def drop(request) -> None:
        request.close_connection = True
        try:
            request.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

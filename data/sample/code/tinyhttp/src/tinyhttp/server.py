"""A blocking, single-threaded server. Good enough for tests; not for production."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from tinyhttp.router import Router

REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error"}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        head = [f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Unknown')}"]
        headers = {"Content-Length": str(len(self.body)), "Connection": "close", **self.headers}
        head += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + self.body


def parse_request(raw: bytes) -> Request:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(method, path, headers, body)


class Server:
    def __init__(self, router: Router, host: str = "127.0.0.1", port: int = 8000):
        self.router, self.host, self.port = router, host, port

    def handle(self, request: Request) -> Response:
        found = self.router.resolve(request.method, request.path)
        if found is None:
            return Response(404, b"not found")
        handler, params = found
        try:
            return handler(request, **params)
        except Exception:  # a handler bug must not take the server down
            return Response(500, b"internal error")

    def serve_forever(self) -> None:
        with socket.create_server((self.host, self.port)) as sock:
            while True:
                conn, _addr = sock.accept()
                with conn:
                    raw = conn.recv(65536)
                    if raw:
                        conn.sendall(self.handle(parse_request(raw)).encode())


def serve(router: Router, port: int = 8000) -> None:
    Server(router, port=port).serve_forever()

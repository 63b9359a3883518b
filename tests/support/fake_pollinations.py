"""A local stand-in for image.pollinations.ai: real sockets, its wire format, scripted replies.

`GET /prompt/{encoded prompt}?width=&height=&...` answers with the scripted replies in order
(the last one repeats); a reply without a body gets a real JPEG of the requested size.
`GET /models` answers with `models_reply`. Every request is recorded.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from PIL import Image


@dataclass(frozen=True)
class Reply:
    status: int = 200
    # None: a JPEG of the requested width and height.
    body: bytes | None = None
    content_type: str = "image/jpeg"
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to wait before answering (cut short when the fake stops).
    delay: float = 0.0
    # Announce this many more bytes than are sent, then close: a transfer cut off midway.
    missing_bytes: int = 0


@dataclass(frozen=True)
class Received:
    raw_path: str
    prompt: str
    query: dict[str, str]
    headers: dict[str, str]


def jpeg_of_size(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), (40, 90, 160))
    image.paste((230, 180, 60), (0, 0, width // 2, height // 2))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


class FakePollinations:
    def __init__(self) -> None:
        self.replies: list[Reply] = [Reply()]
        self.models_reply = Reply(body=b'["flux", "turbo"]', content_type="application/json")
        self.received: list[Received] = []
        self.models_requests = 0
        # Seconds spent inside the handler per image request (for the benchmark's overhead).
        self.handler_seconds: list[float] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll interval makes `stop()` quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakePollinations:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def reply_with(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def _next_reply(self, received: Received) -> Reply:
        with self._lock:
            self.received.append(received)
            return self.replies[min(len(self.received), len(self.replies)) - 1]

    def _count_models_request(self) -> None:
        with self._lock:
            self.models_requests += 1


def _handler_for(fake: FakePollinations) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; with Nagle on, the body's tail waits for
        # the client's delayed ACK (~40 ms) and the benchmark would measure that.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests read `fake.received` instead."""

        def do_GET(self) -> None:
            started = time.perf_counter()
            url = urlsplit(self.path)
            if url.path == "/models":
                fake._count_models_request()
                self._send(fake.models_reply, b"")
                return
            if not url.path.startswith("/prompt/"):
                self._send(Reply(status=404, body=b"Not found", content_type="text/plain"), b"")
                return
            raw_prompt = url.path.removeprefix("/prompt/")
            query = dict(parse_qsl(url.query))
            reply = fake._next_reply(
                Received(url.path, unquote(raw_prompt), query, dict(self.headers.items()))
            )
            if reply.delay and fake._stopping.wait(reply.delay):
                return
            body = reply.body
            if body is None:
                body = jpeg_of_size(int(query.get("width", 512)), int(query.get("height", 512)))
            self._send(reply, body)
            fake.handler_seconds.append(time.perf_counter() - started)

        def _send(self, reply: Reply, default_body: bytes) -> None:
            body = reply.body if reply.body is not None else default_body
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(body) + reply.missing_bytes))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.missing_bytes:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up first (a timeout test): nothing left to say.
                self.close_connection = True

    return Handler

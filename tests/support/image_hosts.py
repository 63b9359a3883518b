"""Many image hosts on loopback: real sockets, scripted replies, every request recorded.

Linux routes all of 127.0.0.0/8 to the loopback interface, so one HTTP server per address
(127.0.0.2, 127.0.0.3, ...) on one shared port plays as many "domains". All hosts share the
scripted routes: `script(path, *replies)` answers that path with the replies in order (the last
one repeats); a path never scripted answers 404. The hosts count how many requests each of them
(and all of them together) had in flight at most, for asserting the download limits.
"""

from __future__ import annotations

import errno
import functools
import io
import socketserver
import struct
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from PIL import Image


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "image/jpeg"
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to wait before answering (cut short when the hosts stop).
    delay: float = 0.0
    # Announce this many more bytes than are sent, then close: a transfer cut off midway.
    missing_bytes: int = 0
    # No Content-Length: the body ends when the connection closes, so only a count of what
    # arrives can stop a client from reading too much.
    close_delimited: bool = False


@dataclass(frozen=True)
class Received:
    # The address the request came in on, whatever its Host header says.
    address: str
    host_header: str
    path: str
    headers: dict[str, str]
    at: float


def image_bytes(image_format: str, width: int, height: int) -> bytes:
    """A real image in `image_format` (JPEG, PNG, WEBP, GIF, BMP...) of the given size."""
    image = Image.new("RGB", (width, height), (40, 90, 160))
    image.paste((230, 180, 60), (0, 0, width // 2, height // 2))
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


@functools.cache
def huge_png(width: int, height: int) -> bytes:
    """A valid black-and-white PNG of width x height pixels in a few kilobytes (all zeros)."""
    row = bytes(1 + (width + 7) // 8)  # filter byte, then one bit per pixel
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        checksum = zlib.crc32(kind + payload)
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", checksum)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status=status, content_type="text/plain", headers={"Location": location})


NOT_FOUND = Reply(status=404, body=b"Not found", content_type="text/plain")


class ImageHosts:
    def __init__(self, count: int = 4) -> None:
        self.addresses = [f"127.0.0.{2 + index}" for index in range(count)]
        self.received: list[Received] = []
        self.max_in_flight_per_host: Counter[str] = Counter()
        self.max_in_flight_total = 0
        self._scripts: dict[str, list[Reply]] = {}
        self._served: Counter[str] = Counter()
        self._in_flight: Counter[str] = Counter()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._servers = _bind_on_one_port(self.addresses, _handler_for(self))
        self.port = self._servers[0].server_port
        # A short poll interval makes `stop()` quick.
        self._threads = [
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
            )
            for server in self._servers
        ]

    def __enter__(self) -> ImageHosts:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stopping.set()
        # Each shutdown waits up to a poll interval: waited for together, not one by one.
        stoppers = [threading.Thread(target=server.shutdown) for server in self._servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server in self._servers:
            server.server_close()

    def url(self, host: int, path: str) -> str:
        return f"http://{self.authority(host)}{path}"

    def authority(self, host: int) -> str:
        return f"{self.addresses[host]}:{self.port}"

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._scripts[path] = list(replies)
            self._served[path] = 0

    def requests_for(self, path: str) -> list[Received]:
        with self._lock:
            return [received for received in self.received if received.path == path]

    def _arrive(self, received: Received) -> Reply:
        with self._lock:
            self.received.append(received)
            self._in_flight[received.address] += 1
            self.max_in_flight_per_host[received.address] = max(
                self.max_in_flight_per_host[received.address],
                self._in_flight[received.address],
            )
            self.max_in_flight_total = max(self.max_in_flight_total, self._in_flight.total())
            replies = self._scripts.get(received.path)
            if not replies:
                return NOT_FOUND
            self._served[received.path] += 1
            return replies[min(self._served[received.path], len(replies)) - 1]

    def _leave(self, address: str) -> None:
        with self._lock:
            self._in_flight[address] -= 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer's own asks DNS for the address's name (socket.getfqdn), which for
        # 127.0.0.2 and up can wait seconds for an answer that never comes.
        socketserver.TCPServer.server_bind(self)
        host, port = self.socket.getsockname()[:2]
        self.server_name = str(host)
        self.server_port = int(port)


def _bind_on_one_port(
    addresses: list[str], handler: type[BaseHTTPRequestHandler]
) -> list[ThreadingHTTPServer]:
    for _ in range(50):
        first = _Server((addresses[0], 0), handler)
        servers: list[ThreadingHTTPServer] = [first]
        try:
            port = first.server_port
            servers += [_Server((address, port), handler) for address in addresses[1:]]
        except OSError as error:
            for server in servers:
                server.server_close()
            if error.errno != errno.EADDRINUSE:
                raise
            continue
        return servers
    raise RuntimeError("no port free on every image host address")


def _handler_for(hosts: ImageHosts) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests read `hosts.received` instead."""

        def do_GET(self) -> None:
            address = str(self.connection.getsockname()[0])
            reply = hosts._arrive(
                Received(
                    address=address,
                    host_header=self.headers.get("Host", ""),
                    path=self.path,
                    headers=dict(self.headers.items()),
                    at=time.monotonic(),
                )
            )
            try:
                stopped = bool(reply.delay) and hosts._stopping.wait(reply.delay)
            finally:
                # Counted until the answer starts: a client frees its slot only once it has
                # read the answer, so the next request through that slot can never overlap
                # this count, however the threads are scheduled.
                hosts._leave(address)
            if stopped:
                self.close_connection = True
                return
            self._send(reply)

        def _send(self, reply: Reply) -> None:
            closing = reply.close_delimited or bool(reply.missing_bytes)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                if not reply.close_delimited:
                    length = len(reply.body) + reply.missing_bytes
                    self.send_header("Content-Length", str(length))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if closing:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up first (a timeout or a size limit): nothing left to say.
                self.close_connection = True

    return Handler

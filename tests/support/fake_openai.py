"""A local HTTP server that speaks the OpenAI chat-completions wire format.

Real sockets, real chunked transfer encoding, events written one by one with small delays, so
the client under test meets what it meets in production: partial reads, slow streams, cuts.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "gpt-4o-mini"


class RawEvent(str):
    """An SSE block written exactly as given (comments, multi-line data), not wrapped."""


def content_event(text: str, model: str = MODEL) -> str:
    return _chunk({"content": text}, None, model)


def role_event(model: str = MODEL) -> str:
    return _chunk({"role": "assistant", "content": ""}, None, model)


def finish_event(reason: str = "stop", model: str = MODEL) -> str:
    return _chunk({}, reason, model)


def usage_event(prompt_tokens: int, completion_tokens: int, model: str = MODEL) -> str:
    return json.dumps(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def answer_events(pieces: list[str], usage: tuple[int, int] | None = (11, 3)) -> list[str]:
    """A complete answer as OpenAI streams it: role, text pieces, finish, usage, [DONE]."""
    events = [role_event(), *(content_event(p) for p in pieces), finish_event()]
    if usage is not None:
        events.append(usage_event(*usage))
    return [*events, "[DONE]"]


def _chunk(delta: dict[str, Any], finish_reason: str | None, model: str) -> str:
    return json.dumps(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }
    )


@dataclass
class Reply:
    """What the server answers to one request."""

    status: int = 200
    events: list[str] | None = None  # SSE `data:` payloads, streamed chunk by chunk
    body: bytes = b""  # sent as is when `events` is None
    content_type: str = "text/event-stream"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.005  # between events
    cut_after: int | None = None  # close the socket after this many events, mid-body
    pause_before: dict[int, float] = field(default_factory=dict)  # event index -> seconds


def error_reply(status: int, message: str, **headers: str) -> Reply:
    body = json.dumps({"error": {"message": message, "type": "fake", "code": status}})
    return Reply(
        status=status, body=body.encode(), content_type="application/json", headers=headers
    )


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    arrived: float  # time.perf_counter()
    first_byte_sent: float | None = None
    events_sent: int = 0
    client_went_away: bool = False
    answered: threading.Event = field(default_factory=threading.Event)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up on idle keep-alive connections is normal here, not a failure.
        pass


class FakeOpenAI:
    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.models_reply = Reply(
            events=None,
            body=json.dumps(
                {"object": "list", "data": [{"id": "beta-model"}, {"id": "alpha-model"}]}
            ).encode(),
            content_type="application/json",
        )
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def app_settings(self) -> dict[str, Any]:
        """The settings that point the app's OpenAI-compatible chat provider here."""
        return {
            "chat_api_base_url": self.base_url,
            "chat_api_key": "test-key",
            "chat_api_models": MODEL,
            "chat_api_retry_attempts": 1,
        }

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _next_reply(self, path: str) -> Reply:
        with self._lock:
            if path.endswith("/models"):
                return self.models_reply
            if not self.replies:
                return error_reply(500, "the test enqueued no reply for this request")
            return self.replies.popleft()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Each event goes out as written, as a real API's would, not held for an ACK.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._answer(None)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                self._answer(json.loads(self.rfile.read(length) or b"null"))

            def _answer(self, body: Any) -> None:
                record = RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    json=body,
                    arrived=time.perf_counter(),
                )
                with fake._lock:
                    fake.requests.append(record)
                reply = fake._next_reply(self.path)
                try:
                    if reply.events is None:
                        self._send_whole(reply)
                    else:
                        self._send_stream(reply, record)
                except (BrokenPipeError, ConnectionResetError):
                    record.client_went_away = True
                    self.close_connection = True
                finally:
                    record.answered.set()

            def _send_whole(self, reply: Reply) -> None:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)

            def _send_stream(self, reply: Reply, record: RecordedRequest) -> None:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Cache-Control", "no-cache")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.flush()
                for index, data in enumerate(reply.events or []):
                    if index == reply.cut_after:
                        self._cut()
                        return
                    time.sleep(reply.pause_before.get(index, reply.delay))
                    framed = data if isinstance(data, RawEvent) else f"data: {data}\n\n"
                    payload = framed.encode()
                    self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
                    self.wfile.flush()
                    if record.first_byte_sent is None:
                        record.first_byte_sent = time.perf_counter()
                    record.events_sent += 1
                if reply.cut_after is not None:
                    self._cut()
                    return
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def _cut(self) -> None:
                """Drop the connection in the middle of the body, as a crashed server would."""
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

        return Handler

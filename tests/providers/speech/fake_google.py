"""A local stand-in for Google Translate's batchexecute endpoint, speaking its wire format.

gTTS POSTs `f.req=[[["jQ1olc","[text,lang,speed,\"null\"]",null,"generic"]]]` and looks, line by
line, for `jQ1olc","[\"<base64 MP3>\"]`. Each request takes the next scripted answer; the last
one repeats.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AUDIO = "audio"
NO_AUDIO = "no-audio"  # Google's answer for a text or language it will not speak
GARBAGE = "garbage"  # an HTML page, as a captive portal or a changed service would send
NOT_MP3 = "not-mp3"  # well-formed, but the base64 holds no MP3
SLOW = "slow"  # audio, after longer than any client timeout in the tests


@dataclass(frozen=True)
class SeenRequest:
    tld: str
    text: str
    lang: str
    slow: bool


def batchexecute_body(payload: str | None) -> bytes:
    """The response framing: anti-XSSI prefix, then length-prefixed JSON envelopes."""
    envelope = json.dumps(
        [
            ["wrb.fr", "jQ1olc", payload, None, None, None if payload else [3], "generic"],
            ["di", 57],
            ["af.httprm", 56, "-2763041564296526432", 25],
        ],
        separators=(",", ":"),
    )
    trailer = '[["e",4,null,null,201]]'
    return f")]}}'\n\n{len(envelope)}\n{envelope}\n{len(trailer)}\n{trailer}\n".encode()


class FakeGoogle:
    def __init__(self, mp3: bytes) -> None:
        self.mp3 = mp3
        self.script: list[str | int] = [AUDIO]
        self.seen: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # A handler still sleeping in the timeout test must not hold up the shutdown.
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer_with(self, *answers: str | int) -> None:
        """Answers in order: one of the names above, or an HTTP status code."""
        self.script = list(answers)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_answer(self) -> str | int:
        with self._lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                tld, _, path = self.path.lstrip("/").partition("/")
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                if path != "_/TranslateWebserverUi/data/batchexecute":
                    self._send(404, b"Not Found", "text/html")
                    return
                rpc = json.loads(urllib.parse.parse_qs(body)["f.req"][0])
                text, lang, speed, _ = json.loads(rpc[0][0][1])
                with fake._lock:
                    fake.seen.append(SeenRequest(tld, text, lang, speed is True))
                self._answer(fake._next_answer())

            def _answer(self, answer: str | int) -> None:
                audio = json.dumps([base64.b64encode(fake.mp3).decode()])
                if answer == SLOW:
                    time.sleep(2)
                    answer = AUDIO
                if answer == AUDIO:
                    self._send(200, batchexecute_body(audio), "application/json")
                elif answer == NO_AUDIO:
                    self._send(200, batchexecute_body(None), "application/json")
                elif answer == NOT_MP3:
                    not_mp3 = json.dumps([base64.b64encode(b"ID3? no, just words").decode()])
                    self._send(200, batchexecute_body(not_mp3), "application/json")
                elif answer == GARBAGE:
                    self._send(200, b"<html><body>Sign in to continue</body></html>", "text/html")
                else:
                    self._send(int(answer), b"<html>Error</html>", "text/html")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

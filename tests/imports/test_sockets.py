"""The importer's network backend under httpx, on asyncio's own loop and on uvloop, against a
real HTTP server (plain and TLS): bodies larger than its read buffer, keep-alive, a server
that drops an idle connection, timeouts, refusals and certificates."""

from __future__ import annotations

import asyncio
import http.server
import ssl
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest
import uvloop

from core.imports.sockets import asyncio_transport
from tests.support.event_loop import run_apart
from tests.support.tls import Authority, make_authority

T = TypeVar("T")
BIG = bytes(range(256)) * (3 * 1024 * 1024 // 256)
HOST_NAME = "images.test"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        if self.path == "/silent":
            self.server.stopping.wait()
            return
        body = BIG if self.path == "/big" else b"small body"
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        # Like a server whose idle timeout passed: the socket closes with no word said.
        self.close_connection = self.path == "/then-drop"

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tls = tls
        self.stopping = threading.Event()
        self.connections = 0
        self.closed = threading.Event()

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        self.connections += 1
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.closed.set()

    @property
    def port(self) -> int:
        return self.server_address[1]


def _serving(tls: ssl.SSLContext | None) -> Iterator[_Server]:
    server = _Server(tls)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def server() -> Iterator[_Server]:
    yield from _serving(None)


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return make_authority(tmp_path_factory.mktemp("tls"), HOST_NAME)


@pytest.fixture
def tls_server(authority: Authority) -> Iterator[_Server]:
    yield from _serving(authority.server_context())


def _on_uvloop(coroutine: Coroutine[Any, Any, T]) -> T:
    # On a thread of its own, as run_apart does for asyncio's loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(uvloop.run, coroutine).result()


LOOPS: dict[str, Callable[[Coroutine[Any, Any, Any]], Any]] = {
    "asyncio": run_apart,
    "uvloop": _on_uvloop,
}


@pytest.fixture(params=sorted(LOOPS))
def run(request: pytest.FixtureRequest) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    return LOOPS[request.param]


def _client(context: ssl.SSLContext | None = None, **timeouts: float) -> httpx.AsyncClient:
    context = context or ssl.create_default_context()
    return httpx.AsyncClient(
        transport=asyncio_transport(ssl_context=context, max_connections=4),
        timeout=httpx.Timeout(timeouts.get("read", 5.0), connect=timeouts.get("connect", 5.0)),
    )


def test_a_body_larger_than_the_read_buffer_arrives_whole(
    server: _Server, run: Callable[[Awaitable[Any]], Any]
) -> None:
    async def main() -> bytes:
        async with _client() as client:
            answer = await client.get(f"http://127.0.0.1:{server.port}/big")
            return answer.content

    assert run(main()) == BIG


def test_requests_one_after_another_share_one_connection(
    server: _Server, run: Callable[[Awaitable[Any]], Any]
) -> None:
    async def main() -> list[bytes]:
        async with _client() as client:
            return [
                (await client.get(f"http://127.0.0.1:{server.port}/small")).content
                for _ in range(3)
            ]

    assert run(main()) == [b"small body"] * 3
    assert server.connections == 1


def test_a_connection_the_server_dropped_while_idle_is_not_used_again(
    server: _Server, run: Callable[[Awaitable[Any]], Any]
) -> None:
    async def main() -> bytes:
        async with _client() as client:
            await client.get(f"http://127.0.0.1:{server.port}/then-drop")
            await asyncio.to_thread(server.closed.wait, 5.0)
            # Until the loop has seen the end: the pool then finds the idle connection
            # readable and drops it, at once or on the next request.
            pool = client._transport._pool  # type: ignore[attr-defined]
            # Well inside the 5 s keep-alive expiry, which would drop it anyway.
            for _ in range(200):
                if all(connection.has_expired() for connection in pool.connections):
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the pool never saw that the server closed")
            return (await client.get(f"http://127.0.0.1:{server.port}/small")).content

    assert run(main()) == b"small body"
    assert server.connections == 2


def test_an_answer_that_never_comes_is_a_read_timeout(
    server: _Server, run: Callable[[Awaitable[Any]], Any]
) -> None:
    async def main() -> None:
        async with _client(read=0.2) as client:
            await client.get(f"http://127.0.0.1:{server.port}/silent")

    with pytest.raises(httpx.ReadTimeout):
        run(main())


def test_a_closed_port_is_a_connect_error(run: Callable[[Awaitable[Any]], Any]) -> None:
    async def main() -> None:
        async with _client() as client:
            # Nothing listens on this loopback address.
            await client.get("http://127.0.0.99:9/small")

    with pytest.raises(httpx.ConnectError):
        run(main())


def test_tls_carries_the_name_the_guard_checked(
    tls_server: _Server, authority: Authority, run: Callable[[Awaitable[Any]], Any]
) -> None:
    async def main() -> bytes:
        async with _client(authority.client_context()) as client:
            # As the importer asks: to the checked address, under the name in the URL.
            answer = await client.get(
                f"https://127.0.0.1:{tls_server.port}/big",
                headers={"Host": HOST_NAME},
                extensions={"sni_hostname": HOST_NAME},
            )
            return answer.content

    assert run(main()) == BIG


@pytest.mark.parametrize(
    ("trusted", "name"),
    [(False, HOST_NAME), (True, "elsewhere.test")],
    ids=["an unknown authority", "a wrong name on a trusted certificate"],
)
def test_a_certificate_that_does_not_verify_is_refused(
    tls_server: _Server,
    authority: Authority,
    run: Callable[[Awaitable[Any]], Any],
    trusted: bool,
    name: str,
) -> None:
    async def main() -> None:
        async with _client(authority.client_context() if trusted else None) as client:
            await client.get(
                f"https://127.0.0.1:{tls_server.port}/small", extensions={"sni_hostname": name}
            )

    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        run(main())

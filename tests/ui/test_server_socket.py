"""Nagle's algorithm off on the listening socket, and so on every connection it accepts."""

from __future__ import annotations

import socket
from pathlib import Path

from ui.server_socket import disable_nagle_on_listeners

_DESCRIPTORS = Path("/proc/self/fd")


def _nodelay(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_listening_sockets_and_their_connections_get_tcp_nodelay() -> None:
    # Created the way Streamlit binds its port: protocol 0, which asyncio does not recognise.
    with socket.socket(socket.AF_INET) as listener, socket.socket(socket.AF_INET) as idle:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert _nodelay(listener) == 0
        open_before = len(list(_DESCRIPTORS.iterdir()))

        assert disable_nagle_on_listeners() >= 1

        # Nothing left open behind: a leaked duplicate of a pipe keeps its reader waiting.
        assert len(list(_DESCRIPTORS.iterdir())) == open_before

        assert _nodelay(listener) != 0
        assert _nodelay(idle) == 0
        with socket.create_connection(listener.getsockname()):
            accepted, _ = listener.accept()
            with accepted:
                assert _nodelay(accepted) != 0

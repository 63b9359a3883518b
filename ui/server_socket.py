"""TCP_NODELAY on the server's listening socket.

Streamlit 1.67 binds its listening socket itself (`starlette_server._bind_socket`) as
`socket.socket(family)`, so the socket's protocol number is 0, and asyncio only switches Nagle's
algorithm off for sockets whose protocol reads IPPROTO_TCP. Every answer on a kept-alive
connection (each API call of a script or SDK, each /healthz poll) then waits about 40 ms for the
client's delayed acknowledgement. On Linux an accepted connection inherits TCP_NODELAY from the
listening socket, so setting it there once fixes every connection.

uvicorn imports app.py after the socket is bound and before it accepts anything, so the
listening sockets are found among the process's open descriptors then.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from pathlib import Path

log = logging.getLogger(__name__)

_DESCRIPTORS = Path("/proc/self/fd")


def _set_nodelay_if_listening(fd: int) -> bool:
    # A duplicate refers to the same socket and is closed here whatever happens: a leaked
    # duplicate would keep the socket (or a pipe) open after its owner closes it.
    duplicate = os.dup(fd)
    try:
        sock = socket.socket(fileno=duplicate)
    except OSError:
        os.close(duplicate)
        raise
    with sock:
        if (
            sock.family not in (socket.AF_INET, socket.AF_INET6)
            or sock.type != socket.SOCK_STREAM
            or not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
        ):
            return False
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return True


def disable_nagle_on_listeners() -> int:
    """Set TCP_NODELAY on every listening TCP socket of this process; returns how many."""
    if not _DESCRIPTORS.is_dir():  # not Linux: nothing to find, and nothing inherited
        return 0
    changed = 0
    for entry in _DESCRIPTORS.iterdir():
        with contextlib.suppress(OSError, ValueError):
            if not str(entry.readlink()).startswith("socket:"):
                continue
            if _set_nodelay_if_listening(int(entry.name)):
                changed += 1
    log.debug("TCP_NODELAY set on listening sockets", extra={"count": changed})
    return changed

import socket


def _is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port(*, also_free_offsets: tuple[int, ...] = ()) -> int:
    """A free TCP port on loopback; `also_free_offsets` must be free too (SeaweedFS gRPC +10000)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + max(also_free_offsets, default=0) < 65536 and all(
            _is_free(port + offset) for offset in also_free_offsets
        ):
            return port
    raise RuntimeError("no free port found")

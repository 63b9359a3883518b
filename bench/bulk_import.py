"""A bulk import of many images from many slow hosts, on PostgreSQL + SeaweedFS (issue 11).

N distinct JPEGs (256x256, ~11 KB each) spread round robin over D loopback "domains"
(127.0.0.2, 127.0.0.3, ...), each request answered after a fixed latency, imported as one job
(`services.imports.submit_urls`, or `submit_documents` with `--per-document`) on the embedded
job pool. The ideal bound is what the download limits allow with nothing else costing time:

    ideal = ceil(N / min(IMPORT_MAX_CONCURRENT_DOWNLOADS, D * IMPORT_MAX_PER_DOMAIN)) * latency

(1,000 images, 10 domains, 50 ms, 20 and 4: 50 waves of 20, 2.5 s). Per run: the job's own
wall time (started_at to finished_at) and the user's (submit to `queue.wait` returning), both
as a ratio over the ideal (goal <= 1.3x), images per second, this process's CPU seconds and the
whole machine's (PostgreSQL and SeaweedFS included), its peak RSS over the run, the job's
summary counts, and what the hosts saw (requests, TCP connections, most in flight). Runs use
distinct owners, so no image is a duplicate of an earlier run's. Alternated with the runs, the
importer's `Downloader` alone on the same URLs: what the fetch layer costs over the ideal.
`--tracemalloc` adds a run under tracemalloc for the peak of Python's own allocations; it is
slower, so it is reported apart and left out of the medians.

The image hosts run in a child process (`--serve`), so the measured process is only Atelier
and the hosts' threads never compete with it for the GIL. `--stages` times each step of the
import (download, inspection, thumbnail, S3 files, SQL + history index, metadata.json) by
wrapping the functions the importer calls, and samples CPU per kind of thread, to say where
the time goes.

    python -m bench.bulk_import [--images 1000] [--domains 10] [--latency-ms 50] [--runs 3]
        [--max-concurrent 20] [--per-domain 4] [--per-document M] [--stages] [--tracemalloc]

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import io
import json
import math
import os
import random
import resource
import socketserver
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ParamSpec, TypeVar

from PIL import Image

import core.imports.importer as importer
from bench.stack import production_stack
from core.generation.status import Status
from core.history import HistoryIndex
from core.imports.fetch import Downloader, Fetched, FetchLimits
from core.imports.guard import AddressGuard
from core.imports.library import ImportLibrary
from core.jobs.model import Job
from core.services import Services
from tests.support.image_hosts import ImageHosts, Reply

PASSWORD = "correct horse 42"
GOAL_RATIO = 1.3
IMAGE_SIDE = 256
P = ParamSpec("P")
R = TypeVar("R")


def image_jpeg(seed: int, side: int = IMAGE_SIDE) -> bytes:
    """A photo-like JPEG (smooth colour blotches, ~11 KB at 256x256), distinct for each seed:
    a flat or repeated test square would be caught as a duplicate and never stored."""
    grid = 24
    noise = random.Random(seed).randbytes(grid * grid * 3)
    picture = Image.frombytes("RGB", (grid, grid), noise).resize(
        (side, side), Image.Resampling.BICUBIC
    )
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=75)
    return buffer.getvalue()


def image_path(number: int) -> str:
    return f"/img/{number:05d}.jpg"


# --- the image hosts, in a process of their own ---


def serve(images: int, domains: int, latency_seconds: float, side: int) -> None:
    """`--serve`: announce the hosts as one JSON line, then answer "stats" lines on stdin
    (the counts since the last one) until stdin closes."""
    sizes = []
    # Accepted connections so far; ten servers accept on their own threads.
    accepted = Counter[str]()
    lock = threading.Lock()
    accept = socketserver.ThreadingMixIn.process_request

    def counted(server: socketserver.ThreadingMixIn, request: Any, address: Any) -> None:
        # One call per accepted TCP connection: how often the client's pool opened a new one.
        with lock:
            accepted["connections"] += 1
        accept(server, request, address)

    # This process only serves the hosts, so patching the class touches nothing else.
    # (setattr: typeshed types the method in a way no replacement matches.)
    setattr(socketserver.ThreadingMixIn, "process_request", counted)  # noqa: B010
    opened = 0
    with ImageHosts(domains) as hosts:
        for number in range(images):
            body = image_jpeg(number, side)
            sizes.append(len(body))
            hosts.script(image_path(number), Reply(body=body, delay=latency_seconds))
        hello = {"port": hosts.port, "addresses": hosts.addresses, "bytes": sizes}
        print(json.dumps(hello), flush=True)
        cpu_mark = _cpu_seconds()
        for line in sys.stdin:
            if line.strip() != "stats":
                continue
            arrivals = [received.at for received in hosts.received]
            stats = {
                "requests": len(arrivals),
                # Arrival of the first request to arrival of the last, on the machine-wide
                # monotonic clock: the downloads' span as the hosts saw it, less one latency.
                "arrival_span_seconds": round(max(arrivals) - min(arrivals), 3)
                if arrivals
                else 0.0,
                "connections": accepted["connections"] - opened,
                "max_in_flight_total": hosts.max_in_flight_total,
                "max_in_flight_per_host": max(hosts.max_in_flight_per_host.values(), default=0),
                "cpu_seconds": round(_cpu_seconds() - cpu_mark, 3),
            }
            # Between imports nothing is in flight, so the counters can start again unlocked.
            hosts.received.clear()
            hosts.max_in_flight_per_host.clear()
            hosts.max_in_flight_total = 0
            cpu_mark = _cpu_seconds()
            opened = accepted["connections"]
            print(json.dumps(stats), flush=True)


@dataclass
class HostsProcess:
    process: subprocess.Popen[str]
    port: int
    addresses: list[str]
    sizes: list[int]

    def url(self, number: int) -> str:
        address = self.addresses[number % len(self.addresses)]
        return f"http://{address}:{self.port}{image_path(number)}"

    def stats(self) -> dict[str, Any]:
        """What the hosts saw since the last call."""
        return json.loads(_exchange(self.process, "stats"))  # type: ignore[no-any-return]


def _exchange(process: subprocess.Popen[str], line: str) -> str:
    stdin: IO[str] | None = process.stdin
    stdout: IO[str] | None = process.stdout
    assert stdin is not None and stdout is not None
    stdin.write(line + "\n")
    stdin.flush()
    return stdout.readline()


@contextmanager
def hosts_process(
    images: int, domains: int, latency_seconds: float, side: int
) -> Iterator[HostsProcess]:
    command = [
        sys.executable, "-m", "bench.bulk_import", "--serve",
        "--images", str(images), "--domains", str(domains),
        "--latency-ms", str(latency_seconds * 1000), "--side", str(side),
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert process.stdout is not None
        hello_line = process.stdout.readline()
        if not hello_line:
            raise RuntimeError(f"the image hosts did not start (exit {process.wait()})")
        hello = json.loads(hello_line)
        yield HostsProcess(process, hello["port"], hello["addresses"], hello["bytes"])
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- what this process costs ---


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent on anything but idling (PostgreSQL,
    SeaweedFS, the hosts, this process, and whatever else runs): near cores x wall time, the
    machine itself was the limit."""
    # The "cpu" line: user nice system idle iowait irq softirq steal, in clock ticks.
    ticks = [int(field) for field in Path("/proc/stat").read_text().split()[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _reset_peak_rss() -> bool:
    """Linux resets VmHWM (the RSS high-water mark) on "5" in clear_refs: a peak per run,
    where getrusage's ru_maxrss only ever grows over the process's whole life."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --- where the time goes (--stages) ---


def _thread_cpu_seconds(native_id: int) -> float | None:
    try:
        stat = Path(f"/proc/self/task/{native_id}/stat").read_text()
    except OSError:
        return None
    # utime and stime are the 14th and 15th fields; the name before them may hold spaces.
    utime, stime = stat.rsplit(")", 1)[1].split()[11:13]
    return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")


class ThreadCpu:
    """CPU seconds per kind of thread over a run ("import" = the run's keeping threads,
    "job-worker" = the one running the import's event loop, where the downloads are), read
    from /proc every 50 ms: a thread that lives a shorter time than that is missed."""

    def __init__(self) -> None:
        self._start: dict[int, float] = {}
        self._last: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="bench-sampler", daemon=True)

    def __enter__(self) -> ThreadCpu:
        for thread in threading.enumerate():
            if thread.native_id is not None:
                self._start[thread.native_id] = _thread_cpu_seconds(thread.native_id) or 0.0
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while True:
            for thread in threading.enumerate():
                if thread.native_id is None or thread is self._thread:
                    continue
                seconds = _thread_cpu_seconds(thread.native_id)
                if seconds is not None:
                    self._last[thread.native_id] = (thread.name, seconds)
            if self._stop.wait(0.05):
                return

    def figures(self) -> dict[str, float]:
        kinds: dict[str, float] = {}
        for native_id, (name, seconds) in self._last.items():
            kind = name.rstrip("0123456789").rstrip("_-") or name
            kinds[kind] = kinds.get(kind, 0.0) + seconds - self._start.get(native_id, 0.0)
        ordered = sorted(kinds.items(), key=lambda item: -item[1])
        return {kind: round(seconds, 2) for kind, seconds in ordered}


@dataclass
class StageTimes:
    """Per stage, each call's (start, end) on the monotonic clock and its thread CPU time."""

    calls: dict[str, list[tuple[float, float, float]]]

    def clear(self) -> None:
        self.calls.clear()

    def record(self, stage: str, start: float, cpu: float) -> None:
        self.calls.setdefault(stage, []).append((start, time.monotonic(), cpu))

    def figures(self, submitted: float) -> dict[str, Any]:
        figures: dict[str, Any] = {}
        for stage, calls in sorted(self.calls.items()):
            walls = [end - start for start, end, _ in calls]
            figures[stage] = {
                "calls": len(calls),
                "wall_seconds_sum": round(sum(walls), 3),
                "mean_ms": round(statistics.fmean(walls) * 1000, 2),
                "max_ms": round(max(walls) * 1000, 2),
                "thread_cpu_seconds_sum": _rounded(sum(cpu for _, _, cpu in calls)),
                "first_start_s": round(min(start for start, _, _ in calls) - submitted, 3),
                "last_end_s": round(max(end for _, end, _ in calls) - submitted, 3),
            }
        return figures


def _rounded(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)


def _timed(times: StageTimes, stage: str, function: Callable[P, R]) -> Callable[P, R]:
    def timed(*args: P.args, **kwargs: P.kwargs) -> R:
        start, cpu = time.monotonic(), time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            times.record(stage, start, time.thread_time() - cpu)

    return timed


def _timed_async(
    times: StageTimes, stage: str, function: Callable[P, Awaitable[R]]
) -> Callable[P, Awaitable[R]]:
    async def timed(*args: P.args, **kwargs: P.kwargs) -> R:
        start = time.monotonic()
        try:
            return await function(*args, **kwargs)
        finally:
            # The loop's thread runs every download at once: its CPU is no one call's.
            times.record(stage, start, math.nan)

    return timed


# (where the importer finds it, its name, the stage it is counted in). add_to_library is one
# SQL transaction then the history index rewrite, which is also counted on its own.
_STAGES: list[tuple[object, str, str]] = [
    (Downloader, "fetch", "download"),
    (importer, "inspect_image", "inspect_image_and_thumbnail"),
    (ImportLibrary, "kept_hashes", "sql_kept_hashes"),
    (ImportLibrary, "store_files", "s3_store_files"),
    (ImportLibrary, "add_to_library", "add_to_library"),
    (HistoryIndex, "append_many", "add_to_library.index"),
    (ImportLibrary, "write_metadata", "s3_metadata_json"),
]


@contextmanager
def stage_timers() -> Iterator[StageTimes]:
    """Wraps what the importer calls by name at call time; restored on the way out."""
    times = StageTimes({})
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in _STAGES]
    for (owner, name, stage), (_, _, original) in zip(_STAGES, originals, strict=True):
        wrap = _timed_async if inspect.iscoroutinefunction(original) else _timed
        setattr(owner, name, wrap(times, stage, original))
    try:
        yield times
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


# --- the downloads alone, the yardstick ---


def download_only(hosts: HostsProcess, shape: Shape, limits: FetchLimits) -> dict[str, Any]:
    """The importer's `Downloader` with the same limits on the same URLs, nothing kept: what
    the fetch layer alone costs over the ideal, on this machine."""

    async def every() -> list[Fetched]:
        async with Downloader(limits, AddressGuard(allow_private=True)) as downloader:
            urls = [hosts.url(number) for number in range(shape.images)]
            return await asyncio.gather(*(downloader.fetch(url) for url in urls))

    hosts.stats()
    cpu_before, busy_before = _cpu_seconds(), _machine_busy_seconds()
    started = time.monotonic()
    fetched = asyncio.run(every())
    seconds = time.monotonic() - started
    return {
        "seconds": round(seconds, 3),
        "ratio": round(seconds / shape.ideal_seconds, 3),
        "failed": sum(1 for one in fetched if not one.ok),
        "cpu_seconds": round(_cpu_seconds() - cpu_before, 3),
        "machine_busy_cpu_seconds": round(_machine_busy_seconds() - busy_before, 2),
        "hosts": hosts.stats(),
    }


# --- one import ---


@dataclass(frozen=True)
class Shape:
    images: int
    per_document: int | None
    ideal_seconds: float


def submit(services: Services, owner: uuid.UUID, hosts: HostsProcess, shape: Shape) -> Job:
    urls = [hosts.url(number) for number in range(shape.images)]
    if shape.per_document is None:
        return services.imports.submit_urls(owner, urls)
    step = shape.per_document
    documents = [
        {"_id": f"d{start // step:05d}", "images": [{"url": u} for u in urls[start : start + step]]}
        for start in range(0, len(urls), step)
    ]
    return services.imports.submit_documents(
        owner, documents, collection="bench", id_field="_id", url_field="images[].url"
    )


def import_once(
    services: Services,
    owner: uuid.UUID,
    hosts: HostsProcess,
    shape: Shape,
    *,
    traced: bool = False,
    stages: StageTimes | None = None,
) -> dict[str, Any]:
    hosts.stats()  # start the hosts' counts afresh
    if stages is not None:
        stages.clear()
    peak_is_per_run = _reset_peak_rss()
    rss_before_kb = _status_kb("VmRSS")
    if traced:
        tracemalloc.start()
    cpu_before, busy_before = _cpu_seconds(), _machine_busy_seconds()
    submitted = time.monotonic()
    with ExitStack() as sampling:
        threads = sampling.enter_context(ThreadCpu()) if stages is not None else None
        job = submit(services, owner, hosts, shape)
        done = services.queue.wait(owner, job.id, max(120.0, 30 * shape.ideal_seconds))
    returned = time.monotonic()
    cpu = _cpu_seconds() - cpu_before
    busy = _machine_busy_seconds() - busy_before
    traced_peak = tracemalloc.get_traced_memory()[1] if traced else None
    if traced:
        tracemalloc.stop()
    peak_kb = (
        _status_kb("VmHWM")
        if peak_is_per_run
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    )
    if done.state is not Status.COMPLETED or done.started_at is None or done.finished_at is None:
        return {"state": done.state.value, "error": done.error, "summary": done.summary}
    run_seconds = (done.finished_at - done.started_at).total_seconds()
    waited_seconds = returned - submitted
    summary = done.summary or {}
    result: dict[str, Any] = {
        "run_seconds": round(run_seconds, 3),
        "submit_to_finished_seconds": round(waited_seconds, 3),
        "queued_seconds": round((done.started_at - done.created_at).total_seconds(), 3),
        "ratio": round(run_seconds / shape.ideal_seconds, 3),
        "ratio_submit_to_finished": round(waited_seconds / shape.ideal_seconds, 3),
        "images_per_second": round(shape.images / run_seconds, 1),
        "cpu_seconds": round(cpu, 3),
        # More than 1 = more than one core busy at once (threads outside the GIL: Pillow,
        # sockets, hashing); the share of `run_seconds` the GIL could allow is about 1.
        "cpu_per_wall": round(cpu / waited_seconds, 2),
        "machine_busy_cpu_seconds": round(busy, 2),
        "machine_busy_fraction": round(busy / (waited_seconds * len(os.sched_getaffinity(0))), 2),
        "rss_before_mb": round(rss_before_kb / 1024, 1),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "peak_rss_delta_mb": round((peak_kb - rss_before_kb) / 1024, 1),
        "summary": {
            key: summary.get(key)
            for key in ("total", "downloaded", "duplicates", "failed", "cancelled", "bytes")
        },
        "hosts": hosts.stats(),
    }
    if summary.get("failed"):
        result["failure_reasons"] = summary.get("reasons")
    if traced_peak is not None:
        result["tracemalloc_peak_mb"] = round(traced_peak / 2**20, 1)
    if stages is not None:
        result["stages"] = stages.figures(submitted)
    if threads is not None:
        result["cpu_seconds_by_thread"] = threads.figures()
    return result


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [run[key] for run in runs if key in run]
    return round(statistics.median(values), 3) if values else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--domains", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-concurrent", type=int, default=20)
    parser.add_argument("--per-domain", type=int, default=4)
    parser.add_argument(
        "--per-document", type=int, default=None,
        help="submit_documents with M images per document (a metadata.json each)",
    )  # fmt: skip
    parser.add_argument("--warmup-images", type=int, default=100)
    parser.add_argument("--stages", action="store_true", help="time each step of the import")
    parser.add_argument(
        "--tracemalloc", action="store_true",
        help="one more import under tracemalloc (slower; not in the medians)",
    )  # fmt: skip
    parser.add_argument(
        "--side",
        type=int,
        default=IMAGE_SIDE,
        help="image side in pixels; above 384 each image also gets a WebP thumbnail",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    latency = arguments.latency_ms / 1000
    if arguments.serve:
        serve(arguments.images, arguments.domains, latency, arguments.side)
        return

    concurrency = min(arguments.max_concurrent, arguments.domains * arguments.per_domain)
    ideal = math.ceil(arguments.images / concurrency) * latency
    shape = Shape(arguments.images, arguments.per_document, ideal)
    warmup = Shape(min(arguments.warmup_images, arguments.images), arguments.per_document, ideal)
    with (
        ExitStack() as timers,
        hosts_process(arguments.images, arguments.domains, latency, arguments.side) as hosts,
        production_stack(
            import_max_concurrent_downloads=arguments.max_concurrent,
            import_max_per_domain=arguments.per_domain,
            # The hosts are on loopback, which an import refuses by default (SSRF guard).
            import_allow_private_networks=True,
            register_limit_per_minute=1000,
        ) as services,
    ):
        # The first account is the administrator: the measured owners are ordinary users.
        services.auth.register("bench-admin@example.com", PASSWORD, ip=None)

        def owner(name: str) -> uuid.UUID:
            return services.auth.register(f"{name}@example.com", PASSWORD, ip=None).id

        # Pillow's codecs, S3 and SQL connections, compiled statements: warm, as in a server
        # that has imported before.
        warm = import_once(services, owner("warmup"), hosts, warmup)
        stages = timers.enter_context(stage_timers()) if arguments.stages else None
        limits = FetchLimits(
            max_concurrent=arguments.max_concurrent, per_domain=arguments.per_domain
        )
        runs, yardsticks = [], []
        # Alternated, so both see the same machine (other work on it comes and goes).
        for n in range(arguments.runs):
            yardsticks.append(download_only(hosts, shape, limits))
            runs.append(import_once(services, owner(f"run-{n}"), hosts, shape, stages=stages))
        timers.close()
        traced = None
        if arguments.tracemalloc:
            traced = import_once(services, owner("traced"), hosts, shape, traced=True)

    print(
        json.dumps(
            {
                "benchmark": "bulk_import",
                "stack": "PostgreSQL + SeaweedFS (weed mini), embedded job pool, loopback hosts",
                "images": arguments.images,
                "domains": arguments.domains,
                "latency_ms": arguments.latency_ms,
                "image": {
                    "side": arguments.side,
                    "format": "JPEG",
                    "mean_bytes": round(statistics.fmean(hosts.sizes)),
                },
                "source": "submit_urls"
                if arguments.per_document is None
                else f"submit_documents, {arguments.per_document} per document",
                "limits": {
                    "max_concurrent": arguments.max_concurrent,
                    "per_domain": arguments.per_domain,
                    "effective_concurrency": concurrency,
                },
                "ideal_seconds": round(ideal, 3),
                "goal_ratio": GOAL_RATIO,
                "memory": "peak RSS per run from /proc/self/status VmHWM, reset through "
                "/proc/self/clear_refs before each run; tracemalloc only in its own run "
                "(--tracemalloc)",
                "median": {
                    key: _median(runs, key)
                    for key in (
                        "run_seconds",
                        "submit_to_finished_seconds",
                        "ratio",
                        "ratio_submit_to_finished",
                        "images_per_second",
                        "cpu_seconds",
                        "peak_rss_delta_mb",
                    )
                },
                "runs": runs,
                "download_only": {
                    "median_seconds": _median(yardsticks, "seconds"),
                    "median_ratio": _median(yardsticks, "ratio"),
                    "runs": yardsticks,
                },
                "tracemalloc_run": traced,
                "warmup": {"images": warmup.images, "run_seconds": warm.get("run_seconds")},
                "cpus": len(os.sched_getaffinity(0)),
                "run_id": str(uuid.uuid4()),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

"""Figures for issue 12's closing note (hardening), as one JSON document:

* `fuzz`: per core entry point (registration and login, image, speech, chat, gallery search),
  the cases tried with the hardening suite's strategies (tests/hardening/entry_points.py) on
  the embedded backend, how many were accepted or refused, and the failures outside
  `AtelierError` (goal 0), broken promises and cases after which the stores disagreed (goal 0);
* `outages`: per fault (PostgreSQL crashed with `pg_ctl stop -m immediate`, SeaweedFS killed)
  in the middle of the fault suite's batch of concurrent image generations, then restarted:
  generations attempted, completed, failed (and with which messages), crashed (not an
  `AtelierError`) and inconsistent afterwards (goal 0);
* `oversized_bodies`: the app (`streamlit run`, embedded defaults) while ten clients at once
  each stream a body of `--body-mb` MB (chunked, no length announced) to `/api/session` and
  then to an API route (`/auth/login`): the app process's RSS before and at its peak, and the
  answers the clients got.

    python -m bench.hardening [--cases 500] [--body-mb 256] [--skip fuzz,outages,bodies]
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, given, settings

from tests.hardening.entry_points import (
    ENTRY_POINTS,
    BrokenPromise,
    EntryPoint,
    HiddenCrash,
    StoresDisagree,
    World,
    open_world,
)
from tests.hardening.outages import Outcome, Stack, open_stack, own_stores, run_batch
from tests.support.app_server import start_app
from tests.support.consistency import disagreements

CLIENTS = 10
CHUNK = b"x" * (1 << 20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=500, help="cases per entry point")
    parser.add_argument("--body-mb", type=int, default=256, help="size of each oversized body")
    parser.add_argument("--skip", default="", help="comma-separated: fuzz, outages, bodies")
    arguments = parser.parse_args()
    skip = set(filter(None, arguments.skip.split(",")))
    # The cases and outages log every refusal and failure they cause: thousands of lines.
    logging.disable(logging.CRITICAL)
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as workdir:
        if "fuzz" not in skip:
            report["fuzz"] = _fuzz(Path(workdir) / "fuzz", arguments.cases)
        if "outages" not in skip:
            report["outages"] = _outages(Path(workdir) / "outages")
        if "bodies" not in skip:
            report["oversized_bodies"] = _oversized_bodies(Path(workdir) / "app", arguments.body_mb)
    print(json.dumps(report, indent=2, ensure_ascii=False))


def _fuzz(workdir: Path, cases: int) -> dict[str, Any]:
    figures = {}
    with open_world(workdir / "data") as world:
        for name, entry_point in ENTRY_POINTS.items():
            started = time.perf_counter()
            tally = _tally_cases(world, entry_point, cases)
            tally["seconds"] = round(time.perf_counter() - started, 1)
            figures[name] = tally
    return figures


def _tally_cases(world: World, entry_point: EntryPoint[Any], cases: int) -> dict[str, Any]:
    """Every case counted, none shrunk: a figure, not a test (the suite finds and shrinks)."""
    tally: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}

    def keep(kind: str, error: BaseException) -> None:
        tally[kind] += 1
        found = examples.setdefault(kind, [])
        if len(found) < 3:
            found.append(f"{type(error).__name__}: {str(error)[:300]}")

    @settings(
        max_examples=cases,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=entry_point.cases)
    def run(case: Any) -> None:
        tally["cases"] += 1
        try:
            tally[entry_point.run(world, case)] += 1
        except StoresDisagree as error:
            keep("inconsistent", error)
        except HiddenCrash as error:
            keep("outside_atelier_error", error)
        except BrokenPromise as error:
            keep("broken_promises", error)
        except Exception as error:
            keep("outside_atelier_error", error)

    run()
    kinds = ("cases", "accepted", "refused", "outside_atelier_error", "inconsistent")
    return {
        **{kind: tally[kind] for kind in kinds},
        "broken_promises": tally["broken_promises"],
        "examples": examples,
    }


def _outages(workdir: Path) -> dict[str, Any]:
    figures = {}
    with own_stores(workdir) as (cluster, objects):
        for fault in ("database", "object store"):
            with open_stack(workdir / fault.replace(" ", "-"), cluster, objects) as stack:
                figures[fault] = _outage_figures(stack, fault)
    return figures


def _outage_figures(stack: Stack, fault: str) -> dict[str, Any]:
    outage = stack.database_outage() if fault == "database" else stack.object_store_outage()
    started = time.perf_counter()
    batch = run_batch(stack, outage)
    seconds = time.perf_counter() - started
    inconsistent = {d.generation_id for d in disagreements(stack.services)}
    return {
        "attempted": len(batch.outcomes),
        "completed": len(batch.completed),
        "failed": len(batch.failed),
        "crashed": len(batch.crashed),
        "inconsistent": len(inconsistent),
        "by_wave": [
            dict(Counter(_ending(o) for o in batch.outcomes if o.wave == wave))
            for wave in sorted({o.wave for o in batch.outcomes})
        ],
        "failure_messages": dict(Counter(o.failure for o in batch.failed)),
        "crashes": [repr(o.crash)[:300] for o in batch.crashed],
        "seconds": round(seconds, 1),
    }


def _ending(outcome: Outcome) -> str:
    if outcome.generation_id is not None:
        return "completed"
    return "failed" if outcome.failure is not None else "crashed"


def _oversized_bodies(workdir: Path, body_mb: int) -> dict[str, Any]:
    workdir.mkdir(parents=True)
    server = start_app(workdir, {"BCRYPT_ROUNDS": "4"})
    try:
        figures = {
            path: _flood(server.url + path, server.process.pid, body_mb)
            for path in ("/api/session", "/auth/login")
        }
        figures["app_still_answers"] = httpx.get(server.url + "/healthz", timeout=10).status_code
        return figures
    finally:
        server.stop()


def _flood(url: str, pid: int, body_mb: int) -> dict[str, Any]:
    """Ten bodies of `body_mb` MB at once, while the app's RSS is sampled every 10 ms."""
    before = _rss_mb(pid)
    peak = before
    sampling = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not sampling.is_set():
            peak = max(peak, _rss_mb(pid))
            time.sleep(0.01)

    def body() -> Iterator[bytes]:
        for _ in range(body_mb):
            yield CHUNK

    def post(_client: int) -> str:
        headers = {"Content-Type": "application/json"}
        try:
            answer = httpx.post(url, content=body(), headers=headers, timeout=120)
        except httpx.HTTPError as error:
            # The server may close the connection on a body it refused before reading it all.
            return type(error).__name__
        return str(answer.status_code)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = Counter(pool.map(post, range(CLIENTS)))
    seconds = time.perf_counter() - started
    sampling.set()
    sampler.join()
    return {
        "clients": CLIENTS,
        "body_mb_each": body_mb,
        "rss_before_mb": before,
        "rss_peak_mb": peak,
        "rss_growth_mb": round(peak - before, 1),
        "answers": dict(answers),
        "seconds": round(seconds, 1),
    }


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no RSS for process {pid}")


if __name__ == "__main__":
    main()

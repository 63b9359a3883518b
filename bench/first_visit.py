"""The first visitor after a start: how long until the app says it is ready, and what the very
first page load costs next to the loads after it.

Each round starts Atelier afresh on its embedded defaults (a new DATA_DIR, so a first start
also makes its keys and database), then:

* ready_s: from spawning `streamlit run app.py` to the "Atelier is ready" line in its output
  (the line a person running `make run` waits for); healthy_s: to the first /healthz answer.
* first_load_ms: the first logged-out session's first page (the login form), with the
  websocket client of bench/ui_sessions (no browser); later_loads_ms: the next sessions'.

    python -m bench.first_visit [--rounds 3] [--later 10] [--app-dir DIR]

`--app-dir` runs another copy of the code (e.g. the commit before a change), for before/after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.stack import percentiles
from bench.ui_sessions import (
    ROOT,
    RUN_TIMEOUT_S,
    Target,
    _clean_env,
    open_stream,
    run_page,
    start_streamlit,
)

READY_LINE = "Atelier is ready"
LOGIN_FORM = Target("", ("🎨 Atelier", "Create account"))


async def _load(url: str) -> float:
    started = time.perf_counter()
    ws = await open_stream(url, None)
    try:
        problem, _runs, _deltas = await run_page(ws, LOGIN_FORM, by_hash=False)
    finally:
        await ws.close()
    if problem is not None:
        raise RuntimeError(problem)
    return (time.perf_counter() - started) * 1000


def _seconds_until_line(log_path: Path, spawned: float, line: str) -> float | None:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        if line in log_path.read_text(errors="replace"):
            return round(time.perf_counter() - spawned, 2)
        time.sleep(0.02)
    return None  # an older copy of the code, which does not print it


def _round(app_dir: Path, later: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-first-visit-") as workdir:
        work = Path(workdir)
        log_path = work / "atelier.log"
        spawned = time.perf_counter()
        server = start_streamlit(
            app_dir / "app.py", app_dir, log_path, _clean_env(work / "data"), "/healthz"
        )
        try:
            healthy = round(time.perf_counter() - spawned, 2)
            ready = _seconds_until_line(log_path, spawned, READY_LINE)
            first = asyncio.run(_load(server.url))
            rest = [asyncio.run(_load(server.url)) for _ in range(later)]
        finally:
            server.stop()
    return {
        "ready_s": ready,
        "healthy_s": healthy,
        "first_load_ms": round(first, 1),
        "later_loads_ms": percentiles(rest),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="fresh starts")
    parser.add_argument("--later", type=int, default=10, help="loads timed after the first")
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="the Atelier code to run")
    args = parser.parse_args()
    rounds = [_round(args.app_dir, args.later) for _ in range(args.rounds)]
    firsts = [float(r["first_load_ms"]) for r in rounds]  # type: ignore[arg-type]
    laters = [r["later_loads_ms"]["p50"] for r in rounds]  # type: ignore[index]
    print(
        json.dumps(
            {
                "benchmark": "first_visit",
                "database": "SQLite + local folder (embedded defaults)",
                "cpus": os.cpu_count(),
                "app_dir": str(args.app_dir),
                "rounds": rounds,
                "first_load_ms_median": round(statistics.median(firsts), 1),
                "later_load_ms_median_of_p50": round(statistics.median(laters), 1),
                "first_over_later": round(statistics.median(firsts) / statistics.median(laters), 2),
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()

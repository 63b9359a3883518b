"""Streamlit sessions under load, next to bare Streamlit: first loads and signed-in page switches.

A websocket client (no browser) speaks Streamlit's `/_stcore/stream` protocol as the frontend
does: it sends the `rerun_script` BackMsg with the page's name or hash and reads ForwardMsgs
until `script_finished` (a run that ends early for a rerun, e.g. `st.switch_page`, is followed
by the next run and counted in `script_runs`). Three `streamlit run` processes on free loopback
ports, started by this run: Atelier on its embedded defaults (SQLite and a folder in a
temporary DATA_DIR), and `bench/bare_app.py` (a title and a two-field login form, served the way
Atelier is) twice: with
Atelier's `.streamlit/config.toml` ("bare", the yardstick for the ratios: what Atelier's own
code adds) and with none ("bare_streamlit_defaults").

* first_load_ms: N new logged-out sessions open `/` at once (handshake + the runs until the
  page is done; Atelier's is the login form).
* page_switch_ms: N signed-in sessions (a refresh-token cookie each, made through `core` on the
  same DATA_DIR) switch between two pages at once, each switch timed.

Every sample checks what the run rendered (a title, a tab, the Log out button), so a page that
fails or lands elsewhere counts as an error, not as a fast run, and counts the deltas (elements
and blocks) it received: a page that draws five times as much costs Streamlit more to run, to
serialise and to send, whoever's code asked for it (`ratio_deltas`).

    python -m bench.ui_sessions [--sessions 1,5,20] [--pages image,speech] [--app-dir DIR]

`--app-dir` runs Atelier from another copy of the code (e.g. an older router), for before/after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.util import calc_hash
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from bench.stack import percentiles
from core.config import Settings
from core.services import start_services
from tests.support.app_server import AppServer
from tests.support.ports import free_port
from ui.routes import REFRESH_COOKIE

ROOT = Path(__file__).resolve().parents[1]
BARE_APP = Path(__file__).resolve().parent / "bare_app.py"
PASSWORD = "correct horse 42"
RUN_TIMEOUT_S = 30.0  # one page run, under load
START_TIMEOUT_S = 90.0
# Each scenario runs in blocks, the three apps in turn, so the machine's drift over a run (it
# is shared) falls on all of them alike instead of on whichever went last.
BLOCKS = 4
BUDGET_S = 150.0  # scenarios that would start later are skipped, and the JSON says so
SIGNED_IN = "Log out"  # the sidebar button every signed-in Atelier page has

# What each page renders first: its title (Home and Log in share "🎨 Atelier").
ATELIER_TITLES = {
    "home": "🎨 Atelier",
    "image": "🎨 Image Studio",
    "speech": "🔊 Speech Studio",
    "chat": "💬 Chat",
    "gallery": "🖼️ Gallery",
    "analytics": "📊 Analytics",
}


@dataclass(frozen=True)
class Target:
    """A page to open: its URL path ("" = the default page) and what it must show."""

    url_path: str
    expects: tuple[str, ...]


@dataclass(frozen=True)
class App:
    name: str
    url: str
    first_page: Target  # logged out
    signed_in_home: Target
    switch_pages: tuple[Target, ...]
    signed_in: bool  # sessions carry a refresh cookie


# (problem or None, script runs, deltas received)
Outcome = tuple[str | None, int, int]


@dataclass
class Samples:
    ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    runs: list[int] = field(default_factory=list)
    deltas: list[int] = field(default_factory=list)

    def add(self, started: float, outcome: Outcome) -> None:
        problem, runs, deltas = outcome
        if problem is None:
            self.ms.append((time.perf_counter() - started) * 1000)
            self.runs.append(runs)
            self.deltas.append(deltas)
        else:
            self.errors.append(problem)

    def summary(self) -> dict[str, object]:
        result: dict[str, object] = percentiles(self.ms) if self.ms else {"n": 0}
        result["errors"] = len(self.errors)
        if self.errors:
            result["first_error"] = self.errors[0][:300]
        if self.runs:
            result["script_runs"] = round(sum(self.runs) / len(self.runs), 2)
            result["deltas_per_load"] = round(sum(self.deltas) / len(self.deltas), 1)
        return result


# --- the protocol ---------------------------------------------------------------------------


def _ws_url(url: str) -> str:
    return url.replace("http://", "ws://", 1) + "/_stcore/stream"


async def open_stream(url: str, cookie: str | None) -> ClientConnection:
    headers = {"Cookie": f"{REFRESH_COOKIE}={cookie}"} if cookie else {}
    return await connect(
        _ws_url(url),
        subprotocols=["streamlit"],  # type: ignore[list-item]
        additional_headers=headers,
        origin=url,  # type: ignore[arg-type]
        max_size=None,
        open_timeout=RUN_TIMEOUT_S,
        proxy=None,
    )


async def run_page(ws: ClientConnection, target: Target, *, by_hash: bool) -> Outcome:
    """Ask for one page run and read until it is done: (problem or None, script runs, deltas
    received: the elements and blocks the page drew, what Streamlit charges for)."""
    message = BackMsg()
    state = message.rerun_script
    if by_hash:  # a click in the navigation menu
        state.page_script_hash = calc_hash(target.url_path)
    else:  # a URL typed into the browser
        state.page_name = target.url_path
    await ws.send(message.SerializeToString())
    seen: set[str] = set()
    problem: str | None = None
    runs, deltas = 1, 0
    async with asyncio.timeout(RUN_TIMEOUT_S):
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(await ws.recv(decode=False))
            kind = forward.WhichOneof("type")
            if kind == "delta":
                deltas += 1
                problem = problem or _read_delta(forward, seen)
            elif kind == "page_not_found":
                problem = problem or f"page not found: {forward.page_not_found.page_name!r}"
            elif kind == "script_finished":
                status = forward.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    runs += 1  # st.switch_page / st.rerun: the next run follows by itself
                    seen.clear()
                    continue
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    problem = problem or "compile error"
                break
    missing = [text for text in target.expects if text not in seen]
    if problem is None and missing:
        problem = f"expected {missing} on {target.url_path or '/'!r}, saw {sorted(seen)[:12]}"
    return problem, runs, deltas


def _read_delta(forward: ForwardMsg, seen: set[str]) -> str | None:
    delta = forward.delta
    if delta.WhichOneof("type") == "add_block":
        if delta.add_block.WhichOneof("type") == "tab":
            seen.add(delta.add_block.tab.label)
        return None
    if delta.WhichOneof("type") != "new_element":
        return None
    element = delta.new_element
    kind = element.WhichOneof("type")
    if kind == "heading":
        seen.add(element.heading.body)
    elif kind == "button":
        seen.add(element.button.label)
    elif kind == "exception":
        return f"exception: {element.exception.type}: {element.exception.message}"
    elif kind == "alert" and element.alert.format == Alert.ERROR:
        return f"error shown: {element.alert.body}"
    return None


async def _first_load(app: App, samples: Samples) -> None:
    started = time.perf_counter()
    try:
        ws = await open_stream(app.url, None)
        try:
            samples.add(started, await run_page(ws, app.first_page, by_hash=False))
        finally:
            await ws.close()
    except (OSError, TimeoutError, WebSocketException) as error:
        samples.errors.append(f"{type(error).__name__}: {error}")


async def _switching(
    app: App, cookie: str | None, switches: int, ready: asyncio.Barrier, samples: Samples
) -> None:
    ws: ClientConnection | None = None
    try:
        ws = await open_stream(app.url, cookie)
        problem, _runs, _deltas = await run_page(ws, app.signed_in_home, by_hash=False)
    except (OSError, TimeoutError, WebSocketException) as error:
        problem = f"{type(error).__name__}: {error}"
    if problem is not None:
        samples.errors.append(f"sign-in: {problem}")
    await ready.wait()  # every session signed in (or failed) before the switching starts
    if ws is None or problem is not None:
        if ws is not None:
            await ws.close()
        return
    try:
        for number in range(switches):
            started = time.perf_counter()
            target = app.switch_pages[number % len(app.switch_pages)]
            samples.add(started, await run_page(ws, target, by_hash=True))
    except (OSError, TimeoutError, WebSocketException) as error:
        samples.errors.append(f"{type(error).__name__}: {error}")
    finally:
        await ws.close()


async def first_loads(app: App, sessions: int, rounds: int, samples: Samples) -> None:
    for _ in range(rounds):
        await asyncio.gather(*(_first_load(app, samples) for _ in range(sessions)))


async def page_switches(
    app: App, cookies: list[str | None], switches: int, samples: Samples
) -> None:
    ready = asyncio.Barrier(len(cookies))
    await asyncio.gather(*(_switching(app, c, switches, ready, samples) for c in cookies))


# --- the servers ------------------------------------------------------------------------------


def start_streamlit(
    script: Path, cwd: Path, log_path: Path, env: dict[str, str], health: str
) -> AppServer:
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = AppServer(f"http://127.0.0.1:{port}", env, process, log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            if httpx.get(server.url + health, timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{script} did not start:\n{server.log_tail()}")
        time.sleep(0.2)


def _clean_env(data_dir: Path) -> dict[str, str]:
    # Only the benchmark's settings reach the apps, never the shell's.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("S3_", "DATABASE_", "JWT_", "REDIS_", "APP_", "DATA_DIR"))
    }
    return env | {"DATA_DIR": str(data_dir), "BCRYPT_ROUNDS": "4", "PYTHONUNBUFFERED": "1"}


def mint_refresh_tokens(data_dir: Path, count: int) -> list[str]:
    """Register an admin and a user, then log the user in `count` times: one cookie each."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data_dir, bcrypt_rounds=4,
        login_limit_per_minute=10**6, login_ip_limit_per_minute=10**6,
    )  # fmt: skip
    services = start_services(settings)
    try:
        auth = services.auth
        auth.register("admin@example.com", PASSWORD, ip=None)
        auth.register("bench@example.com", PASSWORD, ip=None)
        return [
            auth.redeem_handoff(auth.login("bench@example.com", PASSWORD, ip=None).handoff_code)
            for _ in range(count)
        ]
    finally:
        services.close()


# --- the run ----------------------------------------------------------------------------------


def _ratio(atelier: dict[str, object], bare: dict[str, object], key: str) -> float | None:
    a, b = atelier.get(key), bare.get(key)
    if isinstance(a, float | int) and isinstance(b, float | int) and b:
        return round(a / b, 2)
    return None


def _compare(bare: Samples, defaults: Samples, atelier: Samples) -> dict[str, object]:
    b, d, a = bare.summary(), defaults.summary(), atelier.summary()
    return {
        "bare": b,
        "bare_streamlit_defaults": d,
        "atelier": a,
        "ratio_p50": _ratio(a, b, "p50"),
        "ratio_p95": _ratio(a, b, "p95"),
        "ratio_p95_to_defaults": _ratio(a, d, "p95"),
        # How much more the page draws: Streamlit's own cost grows with it.
        "ratio_deltas": _ratio(a, b, "deltas_per_load"),
    }


def _bare(name: str, url: str) -> App:
    login, other = Target("login", ("Bare login",)), Target("other", ("Bare other",))
    return App(
        name, url, Target("", login.expects), Target("", login.expects), (other, login), False
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", default="1,5,20", help="concurrent sessions, e.g. 1,5,20")
    parser.add_argument("--samples", type=int, default=40, help="samples per scenario, at least")
    parser.add_argument("--switches", type=int, default=10, help="page switches per session")
    parser.add_argument("--pages", default="image,speech", help="Atelier pages to switch between")
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="the Atelier code to run")
    args = parser.parse_args()
    counts = [int(n) for n in args.sessions.split(",")]
    pages = [name.strip() for name in args.pages.split(",")]
    if unknown := [name for name in pages if name not in ATELIER_TITLES]:
        parser.error(f"unknown pages {unknown}; choose from {sorted(ATELIER_TITLES)}")
    began = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="bench-ui-") as workdir:
        work = Path(workdir)
        data_dir = work / "data"
        # Up front, before the app opens the database: one cookie per signed-in session.
        cookies = mint_refresh_tokens(data_dir, sum(counts) * BLOCKS + 1)
        env = _clean_env(data_dir)
        # Streamlit reads .streamlit/config.toml from the directory it starts in: "bare" runs
        # with Atelier's own settings (so the ratio is what Atelier's code adds), the other one
        # with none (what a fresh `streamlit run` does).
        same_config, no_config = work / "bare-same-config", work / "bare-defaults"
        (same_config / ".streamlit").mkdir(parents=True)
        no_config.mkdir()
        if (config := args.app_dir / ".streamlit" / "config.toml").is_file():
            shutil.copy(config, same_config / ".streamlit" / "config.toml")
        servers: list[AppServer] = []
        try:
            for cwd in (same_config, no_config):
                servers.append(
                    start_streamlit(BARE_APP, cwd, cwd / "streamlit.log", env, "/_stcore/health")
                )
            servers.append(
                start_streamlit(
                    args.app_dir / "app.py", args.app_dir, work / "atelier.log", env, "/healthz"
                )
            )
            atelier = App(
                "atelier",
                servers[2].url,
                first_page=Target("", ("🎨 Atelier", "Create account")),
                signed_in_home=Target("", ("🎨 Atelier", SIGNED_IN)),
                switch_pages=tuple(Target(p, (ATELIER_TITLES[p], SIGNED_IN)) for p in pages),
                signed_in=True,
            )
            apps = (_bare("bare", servers[0].url), _bare("defaults", servers[1].url), atelier)
            results = asyncio.run(_measure(apps, counts, cookies, args, began))
        finally:
            for server in servers:
                server.stop()

    print(
        json.dumps(
            {
                "benchmark": "ui_sessions",
                "database": "SQLite + local folder (embedded defaults)",
                "cpus": os.cpu_count(),
                "app_dir": str(args.app_dir),
                "switch_pages": pages,
                "seconds": round(time.monotonic() - began, 1),
                **results,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


async def _measure(
    apps: tuple[App, App, App],
    counts: list[int],
    cookies: list[str],
    args: argparse.Namespace,
    began: float,
) -> dict[str, object]:
    # Warm every process (imports, bytecode, first provider use) before anything is timed.
    for app in apps:
        await first_loads(app, 1, 2, Samples())
        warm_cookie = cookies.pop() if app.signed_in else None
        await page_switches(app, [warm_cookie], 2 * len(app.switch_pages), Samples())

    first: dict[str, object] = {}
    switching: dict[str, object] = {}
    for n in counts:
        if time.monotonic() - began > BUDGET_S:
            first[str(n)] = {"skipped": "time budget"}
            continue
        bare, defaults, atelier = per_app = (Samples(), Samples(), Samples())
        for _ in range(max(BLOCKS, math.ceil(args.samples / n))):
            for app, samples in zip(apps, per_app, strict=True):
                await first_loads(app, n, 1, samples)
        first[str(n)] = _compare(bare, defaults, atelier)
    for n in counts:
        if time.monotonic() - began > BUDGET_S:
            switching[str(n)] = {"skipped": "time budget"}
            continue
        switches = max(args.switches, math.ceil(args.samples / n))
        bare, defaults, atelier = per_app = (Samples(), Samples(), Samples())
        for _ in range(BLOCKS):
            for app, samples in zip(apps, per_app, strict=True):
                own = [cookies.pop() if app.signed_in else None for _ in range(n)]
                await page_switches(app, own, math.ceil(switches / BLOCKS), samples)
        switching[str(n)] = _compare(bare, defaults, atelier)
    return {"first_load_ms": first, "page_switch_ms": switching}


if __name__ == "__main__":
    main()

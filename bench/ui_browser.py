"""What a visitor waits for in a real browser: a fresh Chromium context opening `/` until the
login form's Password field is visible, Atelier against the bare Streamlit app (same config).

Both apps are started by this run (as `bench.ui_sessions` starts them); the runs alternate so
both see the same machine. Every run uses a new browser context: no cache, no cookies.

    python -m bench.ui_browser [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Browser, expect, sync_playwright

from bench.stack import percentiles
from bench.ui_sessions import BARE_APP, ROOT, _clean_env, start_streamlit
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.support.app_server import AppServer


def _until_login_form(browser: Browser, url: str) -> float:
    context = browser.new_context()
    try:
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url)
        expect(page.get_by_label("Password", exact=True).first).to_be_visible(timeout=30_000)
        return (time.perf_counter() - started) * 1000
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        env = _clean_env(work / "data")
        bare_dir = work / "bare"
        (bare_dir / ".streamlit").mkdir(parents=True)
        shutil.copy(ROOT / ".streamlit" / "config.toml", bare_dir / ".streamlit" / "config.toml")
        servers: list[AppServer] = []
        try:
            servers.append(
                start_streamlit(BARE_APP, bare_dir, work / "bare.log", env, "/_stcore/health")
            )
            servers.append(
                start_streamlit(ROOT / "app.py", ROOT, work / "atelier.log", env, "/healthz")
            )
            bare, atelier = servers
            samples: dict[str, list[float]] = {"bare": [], "atelier": []}
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                # One run each first: Chromium's own first start is not either app's cost.
                _until_login_form(browser, bare.url)
                _until_login_form(browser, atelier.url)
                for _ in range(args.runs):
                    samples["bare"].append(_until_login_form(browser, bare.url))
                    samples["atelier"].append(_until_login_form(browser, atelier.url))
                browser.close()
        finally:
            for server in servers:
                server.stop()
    summary = {name: percentiles(values) for name, values in samples.items()}
    print(
        json.dumps(
            {
                "benchmark": "ui_browser",
                "measure": "fresh Chromium context, goto / until the Password field is visible",
                "runs": args.runs,
                "login_form_visible_ms": summary,
                "ratio_p50": round(summary["atelier"]["p50"] / summary["bare"]["p50"], 2),
                "ratio_p95": round(summary["atelier"]["p95"] / summary["bare"]["p95"], 2),
                "goal_ratio": 1.1,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

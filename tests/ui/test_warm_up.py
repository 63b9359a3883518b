"""Before the first visitor: the pages' imports and Streamlit's own first-run work are done,
and the app says it is ready only once it answers."""

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.app_server import ROOT, AppServer
from ui.warm_up import PAGE_SCRIPTS, imported_modules


def test_imported_modules_are_the_absolute_imports_with_their_names(tmp_path: Path) -> None:
    script = tmp_path / "page.py"
    script.write_text(
        "import streamlit as st\nfrom core.runtime import services\nfrom . import sibling\n"
        "import os, json\nfrom core.runtime import services as again\n"
    )

    assert imported_modules([script]) == {
        "streamlit": (),
        "core.runtime": ("services",),
        "os": (),
        "json": (),
    }


def test_every_page_script_is_read() -> None:
    names = {script.name for script in PAGE_SCRIPTS}

    assert {"main.py", "login.py", "analytics.py", "gallery.py"} <= names


def test_the_warm_up_leaves_nothing_for_the_first_run_to_load() -> None:
    # A fresh interpreter: the test process has long imported everything.
    check = textwrap.dedent(
        """
        import sys
        from ui import warm_up
        warm_up.import_page_modules()
        from streamlit import delta_generator
        assert delta_generator._use_warning_has_been_displayed, "REPL check left for later"
        assert "streamlit.emojis" in sys.modules, "emoji table left for later"
        assert {"altair", "ui.charts", "ui.router"} <= set(sys.modules), "page imports left"
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr[-2000:]


def test_the_app_says_it_is_ready_with_its_address_and_not_before(app_server: AppServer) -> None:
    # app_server returns once /healthz answers, which the lifespan allows only after warming up.
    log = app_server.log_path.read_text(errors="replace")
    port = app_server.url.rsplit(":", 1)[1]

    assert f"Atelier is ready: http://localhost:{port}" in log
    assert "You can now view your Streamlit app" not in log

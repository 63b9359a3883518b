"""Before the first visitor: import what the router and every page import, then say we are ready.

Streamlit runs the router and the page files as scripts, so whatever they import is imported by
the first run that needs it, inside some visitor's page load: the Analytics charts alone pull in
Altair and pandas (about a second here). Reading the imports from the files themselves keeps
this list from drifting as pages change.

Streamlit prints its "You can now view your Streamlit app" URL before the app's lifespan has
connected, migrated and warmed up, so that message is hidden (`logger.hideWelcomeMessage`) and
this one is printed once the app really answers.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Iterable
from pathlib import Path

from streamlit import config

log = logging.getLogger(__name__)

_UI_DIR = Path(__file__).resolve().parent
PAGE_SCRIPTS = (_UI_DIR / "main.py", *sorted((_UI_DIR.parent / "pages").glob("*.py")))


def imported_modules(scripts: Iterable[Path]) -> dict[str, tuple[str, ...]]:
    """The absolute imports of these files, in order of first appearance: each module with
    the names imported from it (`from ui import charts` imports the submodule too)."""
    names: dict[str, dict[str, None]] = {}
    for script in scripts:
        for node in ast.walk(ast.parse(script.read_text(), str(script))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    names.setdefault(alias.name, {})
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.setdefault(node.module, {}).update(
                    dict.fromkeys(alias.name for alias in node.names)
                )
    return {module: tuple(imported) for module, imported in names.items()}


def import_page_modules() -> None:
    for module, imported in imported_modules(PAGE_SCRIPTS).items():
        # As the import statement does: names in `fromlist` that are submodules get imported.
        __import__(module, fromlist=imported)
    _streamlit_first_run_work()


def _streamlit_first_run_work() -> None:
    """What Streamlit itself does once per process, on the first run that sends an element
    (0.5 s of the first visitor's login form here, 20x a later run)."""
    # Private to Streamlit, so looked up, not assumed: a release without them only loses the
    # head start. The first element checks whether it runs in a REPL (inspect.stack() resolves
    # the path of every loaded module); the page icon's emoji check imports and compiles a
    # table of every emoji.
    from streamlit import delta_generator, string_util

    for once in (
        getattr(delta_generator, "_maybe_print_use_warning", None),
        lambda: getattr(string_util, "is_emoji", bool)("🎨"),
    ):
        if once is not None:
            once()


def ready_url() -> str:
    address = config.get_option("browser.serverAddress") or "localhost"
    port = config.get_option("server.port")
    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"http://{address}:{port}/{base}".rstrip("/")


def announce_ready() -> None:
    # Printed, not only logged: it is what the person who typed `make run` is waiting for.
    print(f"\n  Atelier is ready: {ready_url()}\n", flush=True)
    log.info("ready for visitors", extra={"url": ready_url()})

"""Who may import whom: core/ and storage/ know no face (Streamlit, FastAPI, Celery, the UI),
and the API face knows nothing of the Streamlit one. Celery lives in queueing/, which the
composition root (core/services.py) opens only when a broker is configured; storage never."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "core": {"streamlit", "fastapi", "starlette", "celery", "ui", "pages", "app", "api"},
    "storage": {
        "streamlit",
        "fastapi",
        "starlette",
        "celery",
        "ui",
        "pages",
        "app",
        "api",
        "queueing",
    },
    "api": {"streamlit", "ui", "pages", "app", "celery"},
    "queueing": {"streamlit", "fastapi", "starlette", "ui", "pages", "app", "api"},
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_import_only_what_is_below_them(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_rule_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import celery.app\nfrom fastapi import FastAPI\nfrom . import sibling\n")
    assert _imports(module) == {"celery", "fastapi"}

"""core/ and storage/ never import Streamlit or the UI layer (ui/, pages/, app.py)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ["core", "storage"])
def test_lower_layers_do_not_import_the_ui(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & {"streamlit", "ui", "pages", "app"})
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.config import Settings
from core.providers.image.diffusion import pipeline
from core.providers.image.registry import build_image_providers, default_image_provider


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_with_no_settings_the_offline_sketch_is_the_default() -> None:
    plain = settings()
    providers = build_image_providers(plain)
    assert set(providers) == {"sketch", "pollinations"}
    assert default_image_provider(plain) == "sketch"
    assert providers["sketch"].is_ai is False
    assert providers["pollinations"].is_ai is True
    assert providers["sketch"].models() == ["sketch-v2"]


def test_pollinations_can_be_switched_off() -> None:
    off = settings(image_pollinations_enabled=False, image_default_provider="pollinations")
    assert set(build_image_providers(off)) == {"sketch"}
    assert default_image_provider(off) == "sketch"


def test_the_default_can_be_another_offered_engine() -> None:
    assert default_image_provider(settings(image_default_provider="pollinations")) == "pollinations"


def test_diffusers_is_not_offered_without_a_pipeline_folder(tmp_path: Path) -> None:
    missing = settings(
        image_diffusers_model_path=str(tmp_path / "nothing"), image_default_provider="diffusers"
    )
    assert "diffusers" not in build_image_providers(missing)
    assert default_image_provider(missing) == "sketch"


def test_diffusers_is_not_offered_when_its_libraries_do_not_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "model_index.json").write_text("{}")
    pipeline.libraries_available.cache_clear()
    monkeypatch.setitem(sys.modules, "diffusers", None)  # makes `import diffusers` fail
    try:
        assert "diffusers" not in build_image_providers(
            settings(image_diffusers_model_path=str(tmp_path))
        )
    finally:
        pipeline.libraries_available.cache_clear()


def test_diffusers_is_offered_with_a_pipeline_folder_and_its_libraries(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "model_index.json").write_text("{}")
    chosen = settings(image_diffusers_model_path=str(folder), image_default_provider="diffusers")
    providers = build_image_providers(chosen)
    assert providers["diffusers"].models() == ["my-model"]
    assert default_image_provider(chosen) == "diffusers"


def test_importing_the_image_providers_does_not_import_torch() -> None:
    code = (
        "import sys, core.providers.image.registry as r; "
        "r.build_image_providers(r.Settings(_env_file=None)); "
        "print('torch' in sys.modules, 'diffusers' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False False"

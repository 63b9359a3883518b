"""The offline models the app knows, and which of them this machine has."""

from __future__ import annotations

import os
import re
from pathlib import Path

from core.providers.chat.catalogue import (
    CATALOGUE,
    QWEN_CODER_05B,
    QWEN_CODER_15B,
    SMOLLM2,
    installed_models,
    known_model,
    marker_path,
)
from core.providers.chat.models import listing
from tests.providers.chat.fake_models import install_fake

REQUIREMENTS = Path(__file__).resolve().parents[3] / "models" / "requirements-chat.txt"


def test_with_only_the_default_installed_smollm2_is_listed(tmp_path: Path) -> None:
    """CI's case: no `make models`, so the models folder does not even exist."""
    (only,) = installed_models(tmp_path / "models")
    assert only.model is SMOLLM2
    assert only.path.is_file()
    assert only.path.stat().st_size == SMOLLM2.size_bytes


def test_an_assembled_model_is_listed_in_catalogue_order(tmp_path: Path) -> None:
    install_fake(tmp_path, QWEN_CODER_15B)
    install_fake(tmp_path, QWEN_CODER_05B)
    assert [i.model for i in installed_models(tmp_path)] == [
        SMOLLM2,
        QWEN_CODER_05B,
        QWEN_CODER_15B,
    ]


def test_a_file_of_the_wrong_size_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / QWEN_CODER_15B.file_name).write_bytes(b"half a download")
    assert [i.model for i in installed_models(tmp_path)] == [SMOLLM2]


def test_a_file_without_the_assemblys_marker_is_not_offered(tmp_path: Path) -> None:
    marker_path(install_fake(tmp_path, QWEN_CODER_15B)).unlink()

    assert [i.model for i in installed_models(tmp_path)] == [SMOLLM2]
    lines, unverified = listing(tmp_path)
    assert unverified
    assert lines[-1].startswith(f"  {QWEN_CODER_15B.label}")
    assert "not offered" in lines[-1] and "run `make models` again" in lines[-1]


def test_a_file_changed_since_it_was_checked_is_not_offered(tmp_path: Path) -> None:
    path = install_fake(tmp_path, QWEN_CODER_05B)
    assert listing(tmp_path) == (
        [f"  {m.label:<20} {m.speed_caption()}" for m in (SMOLLM2, QWEN_CODER_05B)],
        False,
    )
    # Same size, written again: only the modification time tells, and it is all that is read.
    mtime = path.stat().st_mtime_ns
    os.utime(path, ns=(mtime, mtime + 1_000_000_000))

    assert [i.model for i in installed_models(tmp_path)] == [SMOLLM2]
    assert listing(tmp_path)[1] is True


def test_each_model_says_how_fast_it_is() -> None:
    assert QWEN_CODER_15B.speed_caption().startswith("Slower, much better answers: about ")
    assert "tokens/s" in SMOLLM2.speed_caption()
    assert SMOLLM2.speed_caption().endswith("· 98 MB")
    assert QWEN_CODER_15B.speed_caption().endswith("· 1.1 GB")
    speeds = [model.tokens_per_second for model in CATALOGUE]
    assert speeds == sorted(speeds, reverse=True)  # the picker lists the fastest first
    assert known_model(QWEN_CODER_05B.name) is QWEN_CODER_05B
    assert known_model("gpt-4o") is None


def test_the_optional_install_pins_every_part_the_catalogue_joins() -> None:
    pinned = re.findall(
        r"^([\w-]+)==\S+ --hash=sha256:[0-9a-f]{64}$", REQUIREMENTS.read_text(), re.M
    )
    expected = [name for model in CATALOGUE if model.parts for name in model.parts.names()]
    assert sorted(pinned) == sorted(expected)

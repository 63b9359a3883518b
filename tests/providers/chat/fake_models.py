"""Optional offline models as the app finds them, without their gigabytes."""

from __future__ import annotations

from pathlib import Path

from core.providers.chat.catalogue import OfflineModel


def install_fake(models_dir: Path, model: OfflineModel) -> Path:
    """A file where `make models` puts the model, of its size but holding nothing (sparse):
    enough to be offered, never to be loaded."""
    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / model.file_name
    with path.open("wb") as file:
        file.truncate(model.size_bytes)
    return path

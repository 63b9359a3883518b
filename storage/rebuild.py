"""Rebuild the database's rows from the object store, or check that the two agree.

    python -m storage.rebuild             # write the missing rows, usage events, conversations
    python -m storage.rebuild --check     # report drift between S3 and SQL; change nothing
    python -m storage.rebuild --repair    # rebuild, then fix what the object store can tell

Uses the app's settings (the environment or .env), migrates an empty database first, and
prints a JSON summary on stdout; progress bars go to stderr when it is a terminal. `--check`
exits with 1 when it finds drift. The work is done by `core.rebuild`.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from types import TracebackType

from tqdm import tqdm  # type: ignore[import-untyped]

from core.config import Settings
from core.logs import configure_logging
from core.rebuild import Mode, StoreRebuild
from core.services import build_services, prepare_storage


class Bars:
    """One tqdm bar per stage of the run, on stderr."""

    def __init__(self, *, enabled: bool | None) -> None:
        # None lets tqdm decide: bars on a terminal, none in a log file.
        self._disable = None if enabled is None else not enabled
        self._bar: tqdm | None = None

    def stage(self, name: str, total: int | None) -> None:
        self.close()
        self._bar = tqdm(total=total, desc=name, file=sys.stderr, disable=self._disable)

    def advance(self, steps: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(steps)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Bars:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--check", action="store_true", help="report drift, change nothing")
    modes.add_argument("--repair", action="store_true", help="rebuild and fix what can be")
    parser.add_argument(
        "--grace-minutes",
        type=float,
        default=10,
        help="leave generations touched this recently alone: the app may be writing them "
        "(default 10; 0 when the app is stopped)",
    )
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress",
        dest="bars",
        action="store_true",
        default=None,
        help="progress bars even when stderr is not a terminal (default: only on one)",
    )
    progress.add_argument("--no-progress", dest="bars", action="store_false", help="no bars")
    arguments = parser.parse_args(argv)
    mode = Mode.CHECK if arguments.check else Mode.REPAIR if arguments.repair else Mode.REBUILD

    configure_logging("WARNING")
    services = build_services(Settings())
    try:
        # An empty database is a valid place to start from: give it its tables first.
        prepare_storage(services)
        with Bars(enabled=arguments.bars) as bars:
            summary = StoreRebuild.of(services).run(
                mode, grace=timedelta(minutes=arguments.grace_minutes), progress=bars
            )
    finally:
        services.close()
    print(json.dumps(summary.to_json(), indent=2))
    return 1 if mode is Mode.CHECK and summary.drift_total else 0


if __name__ == "__main__":
    sys.exit(main())

"""`make run`'s system check: a machine without the speech tools gets the command to run."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run_check(path_dirs: list[Path]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": os.pathsep.join(str(d) for d in path_dirs)}
    return subprocess.run(
        [shutil.which("bash") or "/bin/bash", "tools/check-system"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _bin_with(tmp_path: Path, tools: list[str]) -> Path:
    """A PATH folder holding only these tools (and what the script itself runs)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in [*tools, "dirname"]:
        found = shutil.which(tool)
        assert found, tool
        (folder / tool).symlink_to(found)
    return folder


def test_missing_speech_tools_are_named_with_the_install_command(tmp_path: Path) -> None:
    checked = _run_check([_bin_with(tmp_path, [])])

    assert checked.returncode == 1
    assert "sudo apt-get install -y espeak-ng lame" in checked.stderr


def test_a_machine_with_the_tools_passes(tmp_path: Path) -> None:
    checked = _run_check([_bin_with(tmp_path, ["espeak-ng", "lame"])])

    assert checked.returncode == 0, checked.stderr

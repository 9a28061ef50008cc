"""This checkout as a commit would hold it, copied elsewhere (the throw-away projects of tests and benchmarks)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def copy_working_tree(dest: Path, root: Path = ROOT) -> None:
    """Tracked and untracked-but-not-ignored files of ``root`` (what a commit would hold) into ``dest``."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root, check=True,
                           capture_output=True, text=True).stdout.split("\0")
    for rel in filter(None, files):
        src = root / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)

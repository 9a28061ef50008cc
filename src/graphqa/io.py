"""Atomic file output: write to a temporary name beside the target, then rename.

A reader (or a crash) sees the old file or the new one, never a partial one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def ensure_writable_dir(path: Path) -> Path:
    """Create ``path`` (and parents); raise a clear error if it cannot be written."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"{path}: cannot create output directory ({exc.strerror})") from exc
    if not os.access(path, os.W_OK):
        raise PermissionError(f"{path}: output directory is not writable")
    return path


@contextmanager
def atomic_path(target: Path | str, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success."""
    target = Path(target)
    ensure_writable_dir(target.parent if str(target.parent) else Path("."))
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or ".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual permissions
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_copy(src: Path | str, dst: Path | str) -> Path:
    """Copy a file so ``dst`` is either the old file or the complete new one."""
    with atomic_path(dst, suffix=Path(dst).suffix or None) as tmp:
        shutil.copyfile(src, tmp)
    return Path(dst)


def write_text(target: Path | str, text: str) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_json(target: Path | str, data: Any) -> Path:
    return write_text(target, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def read_json(path: Path | str) -> Any:
    """Read JSON, with an error that names the file."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: not found") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None


def csv_text(rows: Sequence[dict[str, Any]]) -> str:
    """Rows of one shape as CSV text (header from the first row); empty for no rows."""
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue()


def new_hidden_dir(parent: Path, prefix: str) -> Path:
    """A fresh hidden directory in ``parent`` with the usual permissions (mkdtemp's are owner-only)."""
    while True:
        path = parent / f"{prefix}{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue

"""Atomic file output: write to a temporary name beside the target, then rename.

A reader (or a crash) sees the old file or the new one, never a partial one.
A full disk (or quota, or file-size limit) fails with the path being written,
and the partial temporary file is removed. JSON is written strictly: NaN and
infinities become ``null`` (strict parsers reject ``NaN``). See
docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
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

# Out of space, over a quota, or over the file-size limit (RLIMIT_FSIZE): the same fault for a writer.
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


def no_space_error(exc: OSError, path: Path | str) -> OSError:
    """``exc`` as an error naming ``path`` when it means the disk is full; ``exc`` itself otherwise."""
    if exc.errno not in NO_SPACE_ERRNOS or str(path) in str(exc):
        return exc
    reason = {errno.EFBIG: "file too large (the file-size limit was reached)",
              errno.EDQUOT: "disk quota exceeded"}.get(exc.errno, "no space left on device")
    error = OSError(f"{path}: {reason} while writing it; the partial file was removed. "
                    "Free space (or raise the limit) and rerun")
    error.errno = exc.errno
    return error


@contextmanager
def naming_full_disk(path: Path | str) -> Iterator[None]:
    """Re-raise a full-disk error inside the block as one that names ``path``."""
    try:
        yield
    except OSError as exc:
        error = no_space_error(exc, path)
        if error is exc:
            raise
        raise error from None


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
        with naming_full_disk(target):
            yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_copy(src: Path | str, dst: Path | str) -> Path:
    """Copy a file so ``dst`` is either the old file or the complete new one."""
    with atomic_path(dst, suffix=Path(dst).suffix or None) as tmp:
        shutil.copyfile(src, tmp)
    return Path(dst)


def write_bytes(target: Path | str, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_torch_save(obj: Any, target: Path | str) -> Path:
    """``torch.save`` atomically, and byte-stable: serialised in memory first, because a file's
    ``torch.save`` names its zip archive after the file (a random temporary name would end up in the bytes)."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return write_bytes(target, buffer.getvalue())


def write_text(target: Path | str, text: str) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def json_safe(data: Any) -> Any:
    """``data`` with every NaN/inf float replaced by ``None`` (``null``), containers copied."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: json_safe(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [json_safe(value) for value in data]
    return data


def write_json(target: Path | str, data: Any) -> Path:
    """Write strict JSON atomically: NaN and infinities are written as ``null``."""
    text = json.dumps(json_safe(data), indent=2, sort_keys=False, default=str, allow_nan=False)
    return write_text(target, text + "\n")


def read_json(path: Path | str) -> Any:
    """Read JSON, with an error that names the file."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: not found") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); expected JSON") from None
    except RecursionError:
        raise ValueError(f"{path}: JSON nested too deeply to read; expected a few levels of objects") from None


def read_json_object(path: Path | str) -> dict[str, Any]:
    """Read a JSON file that must hold an object (``{...}``); the error names the file and what it holds."""
    data = read_json(path)
    if not isinstance(data, dict):
        kind = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(data), "null")
        raise ValueError(f"{path}: holds a JSON {kind}, expected a JSON object ({{...}}); "
                         "rewritten or damaged by hand? Delete it and rerun the stage that writes it")
    return data


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

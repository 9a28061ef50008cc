"""Outputs are written to a temporary name and renamed: never half-written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from graphqa.io import atomic_path, ensure_writable_dir, read_json, write_json


def test_failed_writer_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    write_json(target, {"version": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text('{"version": 2, "trunc')
        raise RuntimeError("crash mid-write")
    assert read_json(target) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"], "the temporary file is cleaned up"


def test_writer_killed_mid_write_leaves_old_or_new_never_partial(tmp_path: Path) -> None:
    """A real process, SIGKILLed while its output is half written."""
    target = tmp_path / "metrics.json"
    write_json(target, {"old": True})
    ready = tmp_path / "ready"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from graphqa.io import atomic_path
        with atomic_path(Path({str(target)!r})) as tmp:
            with tmp.open("w") as handle:
                handle.write('{{"new": true, "values": [' + '1,' * 100000)
                handle.flush()
                Path({str(ready)!r}).touch()
                time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        for _ in range(600):
            if ready.exists():
                break
            proc.poll()
            assert proc.returncode is None, "writer exited early"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert json.loads(target.read_text()) == {"old": True}


def test_json_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "winner.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=f"{bad}: not valid JSON"):
        read_json(bad)
    with pytest.raises(FileNotFoundError, match="missing.json: not found"):
        read_json(tmp_path / "missing.json")


def test_output_dir_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "artifacts"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(OSError, match=f"{blocker / 'schema'}: cannot create output directory"):
        ensure_writable_dir(blocker / "schema")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through directory permissions")
def test_read_only_output_dir_is_named(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(PermissionError, match=f"{locked}: output directory is not writable"):
            write_json(locked / "out.json", {})
    finally:
        locked.chmod(0o755)


def test_stage_with_unwritable_output_fails_cleanly(tmp_path: Path, packed_demo) -> None:
    """The schema stage, pointed at an output it cannot create: one clear line, non-zero exit."""
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, str(root / "stages" / "schema.py"), "--graphs", str(packed_demo.data_dir / "graphs"),
         "--labels", str(packed_demo.data_dir / "labels"), "--out", str(blocker / "schema")],
        capture_output=True, text=True, cwd=root,
    )
    assert result.returncode != 0
    assert str(blocker / "schema") in result.stderr
    assert "Traceback" not in result.stderr

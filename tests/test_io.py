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


# ----------------------------------------------------------------- strict JSON, hand-damaged JSON, full disks


def test_write_json_writes_null_for_nan_and_infinities(tmp_path: Path) -> None:
    target = write_json(tmp_path / "headline.json", {"spearman": float("nan"), "loss": [1.0, float("inf")],
                                                      "nested": {"x": -float("inf")}, "ok": 0.5})
    text = target.read_text()
    assert "NaN" not in text and "Infinity" not in text

    def refuse(token: str) -> None:
        raise ValueError(f"strict parsers reject {token}")

    assert json.loads(text, parse_constant=refuse) == {"spearman": None, "loss": [1.0, None], "nested": {"x": None},
                                                       "ok": 0.5}


@pytest.mark.parametrize(("content", "kind"), [("[]", "array"), ('"x"', "string"), ("null", "null"), ("1.5", "number")])
def test_read_json_object_names_the_file_and_what_it_holds(tmp_path: Path, content: str, kind: str) -> None:
    from graphqa.io import read_json_object

    path = tmp_path / "summary.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=rf"summary\.json: holds a JSON {kind}, expected a JSON object"):
        read_json_object(path)


def test_read_json_of_absurd_nesting_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match=r"deep\.json: JSON nested too deeply to read"):
        read_json(path)


def tiny_disk(tmp_path: Path) -> Path | None:
    """A 64 KiB tmpfs at ``tmp_path/disk`` (root only), or None where it cannot be mounted."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        return None
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True)
    return disk if mounted.returncode == 0 else None


WRITE_BIG_JSON = textwrap.dedent("""
    import resource, sys
    from graphqa.io import write_json
    if len(sys.argv) > 2:  # no tmpfs here: a 64 KiB file-size limit (EFBIG) stands in for the full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
    write_json(sys.argv[1], {"rows": ["x" * 100] * 2000})
""")


@pytest.mark.parametrize("fault", ["full tmpfs (ENOSPC)", "file-size limit (EFBIG)"])
def test_a_full_disk_names_the_file_being_written_and_keeps_the_old_one(tmp_path: Path, fault: str) -> None:
    disk = tiny_disk(tmp_path) if fault.startswith("full") else tmp_path / "plain"
    if disk is None:
        pytest.skip("mounting a tmpfs needs root")
    try:
        disk.mkdir(exist_ok=True)
        target = disk / "summary.json"
        write_json(target, {"version": 1})
        args = [sys.executable, "-c", WRITE_BIG_JSON, str(target)] + (["rlimit"] if "EFBIG" in fault else [])
        result = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert result.returncode != 0
        last = result.stderr.strip().splitlines()[-1]
        reason = "no space left on device" if "ENOSPC" in fault else "file too large (the file-size limit was reached)"
        assert last.endswith(f"{target}: {reason} while writing it; the partial file was removed. "
                             "Free space (or raise the limit) and rerun"), result.stderr[-1000:]
        assert read_json(target) == {"version": 1}
        assert sorted(p.name for p in disk.iterdir()) == ["summary.json"]
    finally:
        if fault.startswith("full"):
            subprocess.run(["umount", str(disk)], check=False)

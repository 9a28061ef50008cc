"""The pack stage on a full disk: the error names the file being written; the previous output stays intact.

Two real faults: a 256 KiB tmpfs that fills up (ENOSPC; needs root to mount) and a file-size limit
(``RLIMIT_FSIZE``, EFBIG), which works anywhere.
"""

from __future__ import annotations

import os
import re
import subprocess
import textwrap
from pathlib import Path

import pytest

from graphqa.data.discover import write_schema_outputs
from tests.data.builders import write_graph
from tests.data.commands import pack_stage

FSIZE_LIMIT = textwrap.dedent("""
    import os, resource, runpy, sys
    resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))  # any file past 8 KiB: EFBIG
    sys.argv = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(sys.argv[0]))  # as `python <script>` does (stages/_guard.py beside it)
    runpy.run_path(sys.argv[0], run_name="__main__")
""")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fault", ["full tmpfs (ENOSPC)", "file-size limit (EFBIG)"])
def test_pack_on_a_full_disk_names_the_file_and_keeps_the_previous_stores(fault: str, build_dataset,
                                                                          tmp_path: Path) -> None:
    ds = build_dataset()
    schema = tmp_path / "schema"
    write_schema_outputs(ds.graphs, ds.labels, schema, 0.95)
    disk = tmp_path / "disk"
    disk.mkdir()
    if "ENOSPC" in fault and (os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True).returncode != 0):
        pytest.skip("mounting a tmpfs needs root")
    try:
        out = disk / "packed"
        stage = (schema / "feature_metadata.json", out, ds.graphs, ds.labels, tmp_path)
        first = pack_stage(*stage)
        assert first.returncode == 0, first.stderr[-2000:]
        before = snapshot(out)
        for i, path in enumerate(ds.files.values()):  # bigger graphs, same dims: the new stores need more room
            write_graph(path, num_nodes=40, node_dim=64, edge_dim=24, seed=100 + i)
        if "ENOSPC" in fault:
            result = pack_stage(*stage)
            reason = "no space left on device"
        else:
            result = pack_stage(*stage, "-c", FSIZE_LIMIT)
            reason = r"file too large \(the file-size limit was reached\)"
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
        written = rf"{re.escape(str(disk))}/\.packed\.[^/]+\.tmp/train/x\.npy"
        assert re.search(rf"stage pack: {written}: {reason} while writing it; the partial file was removed",
                         result.stderr), result.stderr[-2000:]
        assert snapshot(out) == before  # the previous stores, intact
        assert sorted(p.name for p in disk.iterdir()) == ["packed"]  # no staging folder left behind
    finally:
        if "ENOSPC" in fault:
            subprocess.run(["umount", str(disk)], check=False)

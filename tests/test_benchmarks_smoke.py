"""The benchmarks still run: ``python -m benchmarks --quick`` on tiny sizes writes both reports.

No timing is asserted here (timings belong in benchmarks/results, not in tests);
only that every group runs and the files carry the expected keys.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GROUPS = {"data_path", "train_step", "compiled_step", "epoch", "pipeline_overhead", "scaling"}
TARGETS = {"packed_batching_speedup", "batch_assembly_share", "epoch_ratio", "noop_repro", "stage_startup",
           "pack_linear", "pack_peak_rss", "train_rss_flat", "gpu_bf16_speedup", "gpu_busy", "compiled_step_speedup",
           "gflops"}


def test_quick_benchmark_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--workdir", str(tmp_path / "work"), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]

    report = json.loads((out / "latest.json").read_text())
    assert set(report) >= {"meta", "results", "targets", "errors"}
    assert report["errors"] == {}
    assert set(report["results"]) == GROUPS
    meta = report["meta"]
    assert meta["mode"] == "quick"
    assert {"loadavg_before", "loadavg_after", "environment", "duration_s", "reps"} <= set(meta)
    assert {"cpus_usable", "torch_threads", "versions", "git_commit"} <= set(meta["environment"])

    results = report["results"]
    assert {"rows", "speedup", "assembly_ms"} <= set(results["data_path"])
    assert {(r["loader"], r["workers"]) for r in results["data_path"]["rows"]} >= {("baseline", 0), ("baseline", 2), ("packed", 0)}
    assert {"cpu", "gpu"} <= set(results["train_step"])
    assert {r["batch_size"] for r in results["train_step"]["cpu"]} == {16, 128}
    assert {"lightning", "real_run"} <= set(results["epoch"])
    assert {"packed_epoch_s", "baseline_epoch_s", "ratio"} <= set(results["epoch"]["lightning"])
    assert results["epoch"]["real_run"]["epochs"]
    assert {"dvc", "stages"} <= set(results["pipeline_overhead"])
    assert results["pipeline_overhead"]["dvc"]["noop_repro_ran_nothing"] is True
    assert {"rows", "per_graph_growth", "loader_memory"} <= set(results["scaling"])
    compiled = results["compiled_step"]
    assert {"eager_step_ms", "compiled_step_ms", "speedup", "compile_s", "gflops", "peak_gflops", "share_of_peak",
            "profile_compiled"} <= set(compiled)
    assert compiled["step_gflop"] > 0 and compiled["peak_gflops"]["median"] > 0

    targets = {t["key"]: t for t in report["targets"]}
    assert set(targets) == TARGETS
    for target in targets.values():
        assert {"target", "measured", "threshold", "met", "note"} <= set(target)

    table = (out / "latest.md").read_text()
    assert "## Targets (issues 7 and 18)" in table
    assert "| target | measured | threshold | status | note |" in table
    assert "## Targets (issues 7 and 18)" in result.stdout

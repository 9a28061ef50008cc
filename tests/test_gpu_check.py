"""make gpu-check, its CPU side: the no-GPU exit, the check list, the time budget, the targets and the report files.

The checks themselves need a CUDA GPU; they run on one with `make gpu-check`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.common import Settings
from benchmarks.gpu_check import CHECKS, PIPELINES, Check, Context, evaluate_targets, markdown, run_checks, write_report

ROOT = Path(__file__).resolve().parents[1]


def test_without_a_gpu_it_says_so_writes_nothing_and_exits_0(tmp_path: Path) -> None:
    import torch

    if torch.version.cuda is not None and (Path("/dev/nvidia0").exists()):
        pytest.skip("this machine has a GPU: the no-GPU path is the one that runs elsewhere")
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([sys.executable, "-m", "benchmarks.gpu_check", "--out", str(tmp_path / "results")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "no CUDA GPU" in result.stdout and "nothing written" in result.stdout
    assert not (tmp_path / "results").exists()


def test_the_check_list_covers_every_gpu_only_check_of_the_issue() -> None:
    names = [c.name for c in CHECKS]
    assert len(names) == len(set(names))
    assert set(PIPELINES) == {"pipeline_ampere_bf16", "pipeline_bf16_strict", "pipeline_16_mixed"}
    assert set(names) == set(PIPELINES) | {"predict_cuda", "tf32", "step_throughput", "busy_share", "host_syncs"}
    assert names.index("pipeline_ampere_bf16") < names.index("predict_cuda")  # predict uses that run's export
    assert any("16-mixed" in o for o in PIPELINES["pipeline_16_mixed"])


def test_checks_run_in_order_a_failure_is_recorded_and_no_check_starts_after_the_budget(tmp_path: Path) -> None:
    ticks = iter(range(0, 1000, 10))  # each reading of the clock is 10 s later

    def fails(ctx: Context) -> dict:
        raise RuntimeError("kernel launch failed\non this device")

    checks = [Check("first", "", lambda ctx: {"figure": 1.5}), Check("second", "", fails),
              Check("third", "", lambda ctx: {"figure": 2}), Check("fourth", "", lambda ctx: {"figure": 3})]
    results = run_checks(checks, Context(tmp_path, Settings.quick()), budget_s=75, clock=lambda: float(next(ticks)))
    assert list(results) == ["first", "second", "third", "fourth"]
    assert results["first"] == {"status": "ok", "figure": 1.5, "wall_s": 10.0}
    assert results["second"]["status"] == "failed"
    assert results["second"]["error"] == "RuntimeError: kernel launch failed on this device"
    assert results["third"]["status"] == "ok"
    assert results["fourth"]["status"] == "skipped" and "budget" in results["fourth"]["reason"]
    assert "figure" not in results["fourth"]  # a check that did not run has no number


def test_targets_and_report_files_say_what_ran_and_nothing_more(tmp_path: Path) -> None:
    results = {
        "pipeline_ampere_bf16": {"status": "ok", "pipeline_s": 61.0, "wall_s": 61.2},
        "pipeline_bf16_strict": {"status": "failed", "error": "RuntimeError: deterministic scatter", "wall_s": 20.0},
        "predict_cuda": {"status": "ok", "graphs": 40, "max_abs_diff": 3e-5, "wall_s": 9.0},
        "busy_share": {"status": "ok", "busy_share": 0.62, "wall_s": 14.0},
        "host_syncs": {"status": "skipped", "reason": "time budget 420 s spent (431 s)"},
        "step_throughput": {"status": "ok", "rows": [{"batch_size": 32, "mode": "fp32", "graphs_per_s": 900.0,
                                                     "peak_mib": 120.5}], "peak_mib": 120.5, "wall_s": 30.0},
    }
    targets = {t["target"]: t for t in evaluate_targets(results)}
    assert targets["GPU busy share of an epoch"]["met"] is False
    assert targets["graphqa predict --device cuda vs cpu, max |difference|"]["met"] is True
    syncs = targets["host syncs per training step outside logging"]
    assert syncs["measured"] is None and syncs["met"] is None
    assert targets["ci_fast pipeline, ampere_bf16"]["met"] is True
    assert targets["ci_fast pipeline, bf16_strict"]["met"] is False
    assert targets["ci_fast pipeline, 16_mixed"]["met"] is None  # not run: no verdict

    report = {"meta": {"started": "2026-11-30 00:00 UTC", "duration_s": 431.0, "budget_s": 420.0, "gpu": "a GPU",
                       "environment": {"versions": {"torch": "2.13.0"}, "git_commit": "abc1234"}},
              "results": results, "targets": list(targets.values())}
    json_path, md_path = write_report(tmp_path / "results", report)
    assert json.loads(json_path.read_text())["results"]["busy_share"]["busy_share"] == 0.62
    text = md_path.read_text()
    assert text == markdown(report)
    assert "| host_syncs | skipped |" in text and "| GPU busy share of an epoch | 0.62 | >= 0.8 | not met |" in text
    assert "| 32 | fp32 | 900.0 | 120.5 |" in text

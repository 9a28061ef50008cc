"""``make gpu-check`` (``python -m benchmarks.gpu_check``): every check that needs a CUDA GPU, in one run.

Prepared to finish within ``--budget-s`` (default 7 minutes) on one GPU;
a check that would start after the budget is spent is recorded as skipped,
never run half. Writes ``benchmarks/results/gpu.json`` and ``gpu.md``:

* ``pipeline_ampere_bf16``, ``pipeline_bf16_strict``, ``pipeline_16_mixed``:
  the ci_fast pipeline of a throw-away copy of this project through
  ``dvc exp run --temp`` with that profile / precision (exit status, wall
  time, precision fallback warnings).
* ``predict_cuda``: ``graphqa predict --device cuda`` against ``--device cpu``
  with the model the ampere_bf16 run exported (max absolute difference;
  within ``PREDICT_TOLERANCE``: the export holds fp32 weights and predict
  runs fp32, TF32 off).
* ``tf32``: fp32 training-step throughput at batch 128 with TF32 matmuls off
  and on (``torch.set_float32_matmul_precision``).
* ``step_throughput``: graphs/s at batch 32/128/512, fp32 vs bf16-mixed vs
  bf16-mixed compiled (``graphqa.models.compile``), with peak GPU memory.
* ``busy_share``: the GPU's busy share of one epoch (target >= 80%).
* ``host_syncs``: host-device synchronisations per training step outside
  logging, counted with ``torch.cuda.set_sync_debug_mode("warn")`` (target 0).

On a machine without a CUDA GPU it says so, writes nothing and exits 0; with
a GPU visible to the system but a CPU-only torch it says that and exits 1.
Never writes an estimated figure: a check that did not run has no number.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import BIN, ROOT, Settings, environment, median, prepare_dataset

log = logging.getLogger("benchmarks.gpu_check")

BUDGET_S = 420.0  # under the 8 minutes the issue allows, leaving time for set-up and the report
BUSY_MIN = 0.8
SYNCS_MAX = 0.0
PREDICT_TOLERANCE = 1e-4
BATCH_SIZES = (32, 128, 512)
PIPELINES: dict[str, tuple[str, ...]] = {  # check name -> `dvc exp run -S` overrides (on top of ci_fast)
    "pipeline_ampere_bf16": ("profile=[ci_fast,ampere_bf16]",),
    "pipeline_bf16_strict": ("profile=[ci_fast,bf16_strict]",),
    "pipeline_16_mixed": ("profile=ci_fast", "trainer.precision=16-mixed", "trainer.accelerator=gpu"),
}


@dataclass
class Context:
    """What the checks share: scratch space, the demo data, the throw-away DVC project."""

    workdir: Path
    settings: Settings
    data: Any = None
    project: Any = None

    def dataset(self) -> Any:
        if self.data is None:
            self.data = prepare_dataset(self.workdir, self.settings.demo_targets, self.settings.demo_decoys)
        return self.data

    def dvc_project(self) -> Any:
        if self.project is None:
            from benchmarks.pipeline_overhead import make_project

            self.project = make_project(self.workdir / "dvc-project", *self.settings.pipeline_demo)
        return self.project


@dataclass(frozen=True)
class Check:
    name: str
    what: str
    run: Callable[[Context], dict[str, Any]]


# ---------------------------------------------------------------- running and reporting


def cuda_state() -> tuple[bool, str]:
    """``(usable, why)``: a CUDA GPU torch can use, or what is missing."""
    import torch

    if torch.cuda.is_available():
        return True, torch.cuda.get_device_name(0)
    system_gpu = shutil.which("nvidia-smi") is not None or Path("/dev/nvidia0").exists()
    if system_gpu and torch.version.cuda is None:
        return False, (f"a GPU is present but torch {torch.__version__} is a CPU build: install a CUDA build of torch "
                       "into .venv, then run make gpu-check again")
    return False, "no CUDA GPU on this machine (torch.cuda.is_available() is false)"


def run_checks(checks: list[Check], ctx: Context, budget_s: float,
               clock: Callable[[], float] = time.perf_counter) -> dict[str, dict[str, Any]]:
    """Each check's result: ``ok`` + figures, ``failed`` + the error, or ``skipped`` once the budget is spent."""
    start = clock()
    results: dict[str, dict[str, Any]] = {}
    for check in checks:
        spent = clock() - start
        if spent >= budget_s:
            results[check.name] = {"status": "skipped", "reason": f"time budget {budget_s:.0f} s spent ({spent:.0f} s)"}
            continue
        log.info("gpu-check: %s ...", check.name)
        begun = clock()
        try:
            results[check.name] = {"status": "ok", **check.run(ctx)}
        except Exception as exc:  # one failing check must not cost the others' figures
            log.exception("gpu-check: %s failed", check.name)
            message = " ".join(str(exc).split())[:600]
            results[check.name] = {"status": "failed", "error": f"{type(exc).__name__}: {message}"}
        results[check.name]["wall_s"] = round(clock() - begun, 1)
    return results


def evaluate_targets(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's GPU targets against what ran; ``met`` is None where the check has no figure."""

    def figure(name: str, key: str) -> Any:
        result = results.get(name, {})
        return result.get(key) if result.get("status") == "ok" else None

    busy, syncs, diff = figure("busy_share", "busy_share"), figure("host_syncs", "syncs_per_step"), \
        figure("predict_cuda", "max_abs_diff")
    targets = [
        {"target": "GPU busy share of an epoch", "measured": busy, "threshold": f">= {BUSY_MIN:g}",
         "met": None if busy is None else busy >= BUSY_MIN},
        {"target": "host syncs per training step outside logging", "measured": syncs, "threshold": f"<= {SYNCS_MAX:g}",
         "met": None if syncs is None else syncs <= SYNCS_MAX},
        {"target": "graphqa predict --device cuda vs cpu, max |difference|", "measured": diff,
         "threshold": f"<= {PREDICT_TOLERANCE:g}", "met": None if diff is None else diff <= PREDICT_TOLERANCE},
    ]
    for name in PIPELINES:
        status = results.get(name, {}).get("status")
        targets.append({"target": f"ci_fast pipeline, {name.removeprefix('pipeline_')}", "measured": status or "not run",
                        "threshold": "ok", "met": None if status in (None, "skipped") else status == "ok"})
    return targets


def markdown(report: dict[str, Any]) -> str:
    meta, results = report["meta"], report["results"]
    lines = ["# graphqa GPU check", "",
             f"{meta['started']}, {meta['duration_s']:.0f} s (budget {meta['budget_s']:.0f} s); GPU: {meta['gpu']}; "
             f"torch {meta['environment']['versions'].get('torch')}; commit {meta['environment'].get('git_commit')}. "
             "Reproduce with `make gpu-check`.", "", "## Targets", "",
             "| target | measured | threshold | status |", "|---|---|---|---|"]
    status = {True: "**met**", False: "not met", None: "n/a"}
    lines += [f"| {t['target']} | {'' if t['measured'] is None else t['measured']} | {t['threshold']} | {status[t['met']]} |"
              for t in report["targets"]]
    lines += ["", "## Checks", "", "| check | status | wall s | figures / error |", "|---|---|---|---|"]
    for name, result in results.items():
        figures = {k: v for k, v in result.items() if k not in ("status", "wall_s", "rows")}
        text = result.get("error") or result.get("reason") or ", ".join(f"{k}: {v}" for k, v in figures.items())
        lines.append(f"| {name} | {result['status']} | {result.get('wall_s', '')} | {str(text).replace('|', '/')} |")
    throughput = results.get("step_throughput", {}).get("rows") or []
    if throughput:
        lines += ["", "## Training step throughput", "", "| batch | mode | graphs/s | peak GPU MiB |", "|---|---|---|---|"]
        lines += [f"| {r['batch_size']} | {r['mode']} | {r['graphs_per_s']} | {r['peak_mib']} |" for r in throughput]
    return "\n".join(lines) + "\n"


def write_report(out: Path, report: dict[str, Any]) -> tuple[Path, Path]:
    from graphqa.io import write_json, write_text

    out.mkdir(parents=True, exist_ok=True)
    return write_json(out / "gpu.json", report), write_text(out / "gpu.md", markdown(report))


# ---------------------------------------------------------------- the checks (need CUDA)


def _pipeline(overrides: tuple[str, ...], name: str) -> Callable[[Context], dict[str, Any]]:
    def check(ctx: Context) -> dict[str, Any]:
        project = ctx.dvc_project()
        args = [str(BIN / "dvc"), "exp", "run", "--temp", "-n", f"gpu-{name}"]
        for override in overrides:
            args += ["-S", override]
        start = time.perf_counter()
        result = subprocess.run(args, cwd=project.root, env=project.env, capture_output=True, text=True, timeout=600,
                                stdin=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        notes = [line.strip()[:200] for line in (result.stdout + result.stderr).splitlines()
                 if "precision" in line.lower() and ("fall" in line.lower() or "warn" in line.lower())]
        if result.returncode != 0:
            raise RuntimeError(f"dvc exp run exited {result.returncode}: {(result.stderr or result.stdout)[-500:]}")
        return {"overrides": list(overrides), "pipeline_s": round(wall, 1), "precision_notes": notes[:5]}

    return check


def _predict(ctx: Context) -> dict[str, Any]:
    import numpy as np

    project = ctx.dvc_project()
    project.run(str(BIN / "dvc"), "exp", "apply", "gpu-pipeline_ampere_bf16")  # the export of that run
    outputs = {}
    for device in ("cuda", "cpu"):
        csv = project.root / f"predict-{device}.csv"
        project.run(str(BIN / "graphqa"), "predict", "--model", "artifacts/model", "--graphs", "data/graphs",
                    "--out", str(csv), "--device", device)
        import csv as csv_module

        with csv.open() as handle:
            rows = {(r.get("TARGET"), r["MODEL"]): float(r["PRED_DOCKQ"]) for r in csv_module.DictReader(handle)}
        outputs[device] = rows
    if outputs["cuda"].keys() != outputs["cpu"].keys():
        raise RuntimeError("cuda and cpu predictions name different graphs")
    keys = sorted(outputs["cpu"])
    diff = np.abs(np.array([outputs["cuda"][k] for k in keys]) - np.array([outputs["cpu"][k] for k in keys]))
    return {"graphs": len(keys), "max_abs_diff": float(diff.max()), "mean_abs_diff": float(diff.mean())}


def _parts(ctx: Context) -> tuple[Any, Any]:
    from benchmarks.common import default_params
    from graphqa.data import PackedGraphStore

    return PackedGraphStore.open(ctx.dataset().packed / "train"), default_params()


def _rate(store: Any, params: Any, batch_size: int, precision: str, compiled: bool, steps: int = 30) -> dict[str, Any]:
    import torch

    from benchmarks.train_step import _batches, _graphs_per_s, _step_fn, _trainer_parts
    from graphqa.models.compile import compile_network

    batches = [b.to("cuda") for b in _batches(store, batch_size, steps)]
    model, optimizer = _trainer_parts(store, params, "cuda")
    if compiled:
        compile_network(model, "on", device_type="cuda")
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if precision == "bf16-mixed" else contextlib.nullcontext
    step = _step_fn(model, optimizer, params, autocast)
    torch.cuda.reset_peak_memory_stats()
    rate = _graphs_per_s(step, batches, steps, 5, torch.cuda.synchronize)
    return {"graphs_per_s": round(rate, 1), "peak_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1)}


def _throughput(ctx: Context) -> dict[str, Any]:
    import torch

    store, params = _parts(ctx)
    bf16 = torch.cuda.is_bf16_supported()
    modes = [("fp32", "32-true", False)] + ([("bf16", "bf16-mixed", False), ("bf16 compiled", "bf16-mixed", True)]
                                             if bf16 else [("fp32 compiled", "32-true", True)])
    rows = []
    for batch_size in BATCH_SIZES:
        for mode, precision, compiled in modes:
            rows.append({"batch_size": batch_size, "mode": mode, **_rate(store, params, batch_size, precision, compiled)})
    by = {(r["batch_size"], r["mode"]): r["graphs_per_s"] for r in rows}
    out: dict[str, Any] = {"rows": rows, "peak_mib": max(r["peak_mib"] for r in rows)}
    if bf16:
        out["bf16_over_fp32_bs128"] = round(by[(128, "bf16")] / by[(128, "fp32")], 2)
        out["compiled_over_bf16_bs128"] = round(by[(128, "bf16 compiled")] / by[(128, "bf16")], 2)
    return out


def _tf32(ctx: Context) -> dict[str, Any]:
    import torch

    store, params = _parts(ctx)
    before = torch.get_float32_matmul_precision()
    rates: dict[str, list[float]] = {"off": [], "on": []}
    try:
        for _ in range(2):
            for mode, precision in (("off", "highest"), ("on", "high")):
                torch.set_float32_matmul_precision(precision)
                rates[mode].append(_rate(store, params, 128, "32-true", False)["graphs_per_s"])
    finally:
        torch.set_float32_matmul_precision(before)
    off, on = median(rates["off"]), median(rates["on"])
    return {"graphs_per_s_tf32_off": off, "graphs_per_s_tf32_on": on, "tf32_speedup": round(on / off, 2)}


def _busy(ctx: Context) -> dict[str, Any]:
    import torch

    from benchmarks.train_step import gpu_busy_share

    store, params = _parts(ctx)
    return gpu_busy_share(store, params, "bf16-mixed" if torch.cuda.is_bf16_supported() else "32-true")


def _syncs(ctx: Context, steps: int = 20) -> dict[str, Any]:
    import torch

    from benchmarks.train_step import _batches, _step_fn, _trainer_parts

    store, params = _parts(ctx)
    batches = [b.pin_memory() for b in _batches(store, 128, steps + 2)]
    model, optimizer = _trainer_parts(store, params, "cuda")
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if torch.cuda.is_bf16_supported() \
        else contextlib.nullcontext
    step = _step_fn(model, optimizer, params, autocast)
    for batch in batches[:2]:  # warm-up (lazy initialisation may sync once)
        step(batch.to("cuda", non_blocking=True))
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            for batch in batches[2:]:
                step(batch.to("cuda", non_blocking=True))
        finally:
            torch.cuda.set_sync_debug_mode("default")
    syncs = [str(w.message).splitlines()[0][:160] for w in caught if "synchroniz" in str(w.message).lower()]
    return {"steps": steps, "syncs_per_step": round(len(syncs) / steps, 2), "examples": sorted(set(syncs))[:3]}


CHECKS: list[Check] = [
    *(Check(name, f"ci_fast pipeline via dvc exp run --temp, {' '.join(o)}", _pipeline(o, name))
      for name, o in PIPELINES.items()),
    Check("predict_cuda", "graphqa predict --device cuda vs --device cpu", _predict),
    Check("tf32", "fp32 step throughput, TF32 off vs on", _tf32),
    Check("step_throughput", "graphs/s at batch 32/128/512: fp32, bf16, compiled", _throughput),
    Check("busy_share", "GPU busy share of an epoch", _busy),
    Check("host_syncs", "host syncs per training step outside logging", _syncs),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results", help="where gpu.json/gpu.md go")
    parser.add_argument("--budget-s", type=float, default=BUDGET_S, help="no check starts after this many seconds")
    parser.add_argument("--only", default=None, help=f"comma-separated checks (default all: {', '.join(c.name for c in CHECKS)})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    usable, why = cuda_state()
    if not usable:
        print(f"make gpu-check: {why}; nothing checked, nothing written.")
        return 0 if why.startswith("no CUDA GPU") else 1
    checks = CHECKS
    if args.only:
        names = {n.strip() for n in args.only.split(",") if n.strip()}
        unknown = names - {c.name for c in CHECKS}
        if unknown:
            parser.error(f"unknown check(s) {sorted(unknown)}; choose from {', '.join(c.name for c in CHECKS)}")
        checks = [c for c in CHECKS if c.name in names]
    scratch = Path(tempfile.mkdtemp(prefix="graphqa-gpu-check-"))
    started, start = datetime.now(UTC), time.perf_counter()
    try:
        ctx = Context(scratch, Settings.full())
        results = run_checks(checks, ctx, args.budget_s)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report = {"meta": {"started": started.strftime("%Y-%m-%d %H:%M UTC"), "duration_s": round(time.perf_counter() - start, 1),
                       "budget_s": args.budget_s, "gpu": why, "environment": environment(),
                       "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")},
              "results": results}
    report["targets"] = evaluate_targets(results)
    paths = write_report(args.out, report)
    print(markdown(report))
    print("written: " + ", ".join(map(str, paths)), file=sys.stderr)
    return 1 if any(r["status"] == "failed" for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m benchmarks [--quick] [--only GROUP,...]``: run the benchmarks, write the results, print the table."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, Settings, environment, loadavg, prepare_dataset

GROUPS = ("data_path", "train_step", "compiled_step", "epoch", "pipeline_overhead", "scaling")
log = logging.getLogger("benchmarks")


def run_group(name: str, settings: Settings, workdir: Path) -> dict[str, Any]:
    from benchmarks import compiled_step, data_path, epoch, pipeline_overhead, scaling, train_step

    if name == "pipeline_overhead":
        return pipeline_overhead.run(settings, workdir)
    data = prepare_dataset(workdir, settings.demo_targets, settings.demo_decoys)
    if name == "data_path":
        return data_path.run(data, settings)
    if name == "train_step":
        return train_step.run(data, settings)
    if name == "compiled_step":
        return compiled_step.run(data, settings)
    if name == "epoch":
        return epoch.run(data, settings, workdir)
    return scaling.run(data, settings, workdir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, one repetition")
    parser.add_argument("--only", default=",".join(GROUPS), help=f"comma-separated groups (default: all of {', '.join(GROUPS)})")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per measurement (default: 3, quick: 1)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results", help="where latest.json/latest.md go")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="scratch folder (default: a temporary one, removed afterwards); the demo data there is reused")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("lightning", "lightning.pytorch", "lightning.fabric", "lightning.pytorch.utilities.rank_zero",
                  "lightning.fabric.utilities.rank_zero", "graphqa", "dvclive"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {unknown}; choose from {', '.join(GROUPS)}")
    settings = Settings.quick() if args.quick else Settings.full()
    if args.reps:
        settings.reps = args.reps

    from benchmarks.report import evaluate_targets, markdown
    from graphqa.io import write_json, write_text

    scratch = args.workdir or Path(tempfile.mkdtemp(prefix="graphqa-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    started, start = datetime.now(UTC), time.perf_counter()
    meta: dict[str, Any] = {"mode": settings.mode, "reps": settings.reps, "groups": groups,
                            "started": started.strftime("%Y-%m-%d %H:%M UTC"), "loadavg_before": loadavg(),
                            "environment": environment(), "group_s": {}, "loadavg_during": {}}
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    try:
        for group in groups:
            log.info("group %s ...", group)
            group_start = time.perf_counter()
            try:
                results[group] = run_group(group, settings, scratch)
            except Exception as exc:  # one broken group must not cost the others' figures
                traceback.print_exc()
                errors[group] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            meta["group_s"][group] = round(time.perf_counter() - group_start, 1)
            meta["loadavg_during"][group] = loadavg()
            log.info("group %s done in %.0f s", group, meta["group_s"][group])
    finally:
        if args.workdir is None:
            shutil.rmtree(scratch, ignore_errors=True)
    meta["loadavg_after"] = loadavg()
    meta["duration_s"] = round(time.perf_counter() - start, 1)
    if args.workdir is None:
        meta["workdir"] = "temporary"
    report = {"meta": meta, "results": results, "errors": errors}
    report["targets"] = evaluate_targets(results)
    text = markdown(report)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "latest.json", report)
    write_text(args.out / "latest.md", text + "\n")
    print(text)
    print(f"\nwritten: {args.out / 'latest.json'}, {args.out / 'latest.md'}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

"""DVC stage evaluate: score every candidate, choose the final model, export it."""

from __future__ import annotations

import argparse
from pathlib import Path

import _guard  # noqa: F401 - first: one instruction, not a traceback, when this python lacks graphqa
from graphqa.stage import run_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packed", type=Path, default=Path("artifacts/packed"))
    parser.add_argument("--schema", type=Path, default=Path("artifacts/schema/feature_metadata.json"))
    parser.add_argument("--winner", type=Path, default=Path("artifacts/selection/winner.json"))
    parser.add_argument("--sweep-ckpt", type=Path, default=Path("artifacts/selection/winner.ckpt"))
    parser.add_argument("--phase1", type=Path, default=Path("runs/finetune/phase1"))
    parser.add_argument("--phase2", type=Path, default=Path("runs/finetune/phase2"))
    parser.add_argument("--sweep-runs", type=Path, default=Path("runs/sweep"), help="the sweep members' run dirs")
    parser.add_argument("--out", type=Path, default=Path("eval"))
    parser.add_argument("--model-out", type=Path, default=Path("artifacts/model"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args()

    def body() -> None:
        from graphqa.config import load_params
        from graphqa.evaluation.candidates import PipelinePaths, evaluate_pipeline
        from graphqa.evaluation.exp_metrics import METRICS_FILE, exp_show_metrics
        from graphqa.io import write_json, write_text
        from graphqa.runs.training_curves import pipeline_runs, training_curves_csv

        params = load_params(args.params)
        paths = PipelinePaths(args.packed, args.schema, args.winner, args.sweep_ckpt, args.phase1, args.phase2,
                              args.out, args.model_out, args.sweep_runs)
        headline = evaluate_pipeline(params, paths)
        # what `dvc exp show` leads with, and the plots page's overlaid training curves (docs/ARCHITECTURE.md)
        write_json(args.out / METRICS_FILE, exp_show_metrics(headline, params.evaluate.hit_thresholds))
        runs = pipeline_runs(args.sweep_runs, args.phase1, args.phase2, params.sweep.members, params.finetune.phase2.seeds)
        write_text(args.out / "plots" / "training_curves.csv", training_curves_csv(runs))

    run_stage("evaluate", body)


if __name__ == "__main__":
    main()

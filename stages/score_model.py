"""DVC stage score_model (the predict_only profile): score a given model on the packed validation and test sets.

Run it alone, without training: ``dvc exp run -S profile=predict_only -s score_model``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _guard  # noqa: F401 - first: one instruction, not a traceback, when this python lacks graphqa
from graphqa.stage import run_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="exported model dir (model.json) or a .ckpt")
    parser.add_argument("--packed", type=Path, default=Path("artifacts/packed"))
    parser.add_argument("--out", type=Path, default=Path("scored"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args()

    def body() -> None:
        from graphqa.config import load_params
        from graphqa.evaluation.exp_metrics import METRICS_FILE, given_model_metrics
        from graphqa.evaluation.given_model import score_given_model
        from graphqa.io import write_json

        params = load_params(args.params)
        headline = score_given_model(params, args.model, args.packed, args.out)
        # what `dvc exp show` shows of it (docs/ARCHITECTURE.md, "What dvc exp show shows")
        write_json(args.out / METRICS_FILE, given_model_metrics(headline, params.evaluate.hit_thresholds))

    run_stage("score_model", body)


if __name__ == "__main__":
    main()

"""DVC stage train@<variant>-<seed>: one sweep member, one Lightning run."""

from __future__ import annotations

import argparse
import sys

try:
    from graphqa.stage import add_run_arguments, run_stage
except ModuleNotFoundError as missing:  # this `python` is not the project's (graphqa.stage_python)
    if missing.name != "graphqa":
        raise
    sys.exit(f"{sys.executable} cannot import graphqa: activate the project's environment (source .venv/bin/activate; "
             "make repro creates it) and run the command again; DVC removed this stage's outputs before running it "
             "(`dvc checkout` restores them)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", required=True, help="sweep variant (a key of sweep.overlays)")
    parser.add_argument("--seed", type=int, required=True)
    add_run_arguments(parser)
    args = parser.parse_args()

    def body() -> None:
        from graphqa.config import load_params
        from graphqa.training.run import train_run

        params = load_params(args.params).for_member(args.variant, args.seed)
        train_run(params, args.packed, args.schema, args.out)

    run_stage(f"train@{args.variant}-{args.seed}", body)


if __name__ == "__main__":
    main()

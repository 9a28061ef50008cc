"""DVC stage train@<variant>-<seed>: one sweep member, one Lightning run."""

from __future__ import annotations

import argparse

import _guard  # noqa: F401 - first: one instruction, not a traceback, when this python lacks graphqa
from graphqa.stage import add_run_arguments, run_stage


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

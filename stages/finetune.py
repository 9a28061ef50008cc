"""DVC stages finetune_phase1 and finetune_phase2@<seed>.

Phase 1 starts from the sweep winner's best checkpoint, phase 2 (one run per
seed) from phase 1's. Weights only: optimizer and scheduler are built fresh
from the phase's params, so the fine-tune learning rate really applies.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _guard  # noqa: F401 - first: one instruction, not a traceback, when this python lacks graphqa
from graphqa.stage import add_run_arguments, run_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("phase", choices=["phase1", "phase2"])
    parser.add_argument("--init", type=Path, required=True, help="checkpoint to initialise the weights from")
    parser.add_argument("--winner", type=Path, default=Path("artifacts/selection/winner.json"))
    parser.add_argument("--seed", type=int, default=None, help="phase 2 seed (phase 1 uses params `seed`)")
    add_run_arguments(parser)
    args = parser.parse_args()

    def body() -> None:
        from graphqa.config import load_params
        from graphqa.runs.leaderboard import read_winner
        from graphqa.training.run import train_run

        base = load_params(args.params)
        winner = read_winner(args.winner)
        params = base.for_member(winner.variant, winner.seed).for_finetune(
            args.phase, seed=args.seed if args.seed is not None else base.seed
        )
        train_run(params, args.packed, args.schema, args.out, init_from=args.init)

    run_stage(f"finetune_{args.phase}" + (f"@{args.seed}" if args.seed is not None else ""), body)


if __name__ == "__main__":
    main()

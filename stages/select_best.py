"""DVC stage select: rank the sweep members by selection score, keep the winner.

(Not named select.py: a script folder comes first on sys.path, and a select.py
there would shadow the standard library module that subprocess imports.)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _guard  # noqa: F401 - first: one instruction, not a traceback, when this python lacks graphqa
from graphqa.stage import run_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=Path, default=Path("runs/sweep"), help="folder of the members' run dirs")
    parser.add_argument("--out", type=Path, default=Path("artifacts/selection"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args()

    def body() -> None:
        from graphqa.config import load_params
        from graphqa.runs.leaderboard import select_winner

        params = load_params(args.params)
        # The member list comes from params, never from globbing run folders.
        select_winner([args.runs / m for m in params.sweep.members], args.out)

    run_stage("select", body)


if __name__ == "__main__":
    main()

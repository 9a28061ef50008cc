"""DVC stage select: rank the sweep members by selection score, keep the winner.

(Not named select.py: a script folder comes first on sys.path, and a select.py
there would shadow the standard library module that subprocess imports.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    from graphqa.stage import run_stage
except ModuleNotFoundError as missing:  # this `python` is not the project's (graphqa.stage_python)
    if missing.name != "graphqa":
        raise
    sys.exit(f"{sys.executable} cannot import graphqa: activate the project's environment (source .venv/bin/activate; "
             "make repro creates it) and run the command again; DVC removed this stage's outputs before running it "
             "(`dvc checkout` restores them)")


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

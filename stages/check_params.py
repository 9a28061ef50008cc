"""DVC stage check_params: validate params.yaml before any stage that trusts it runs.

Every other stage is downstream of it, so a bad key, type or value in
params.yaml fails here, naming the key, before DVC removes any other stage's
outputs. Its output never changes while the params are valid, so it
invalidates nothing downstream. (``dvc exp run -S`` is checked even earlier,
while DVC composes params.yaml: hydra_plugins/graphqa_params.)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _guard  # noqa: F401 - first: one instruction, not a traceback, when this python lacks graphqa
from graphqa.stage import run_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--out", type=Path, default=Path("artifacts/params_check.json"))
    args = parser.parse_args()

    def body() -> None:
        from graphqa.config import load_params
        from graphqa.io import write_json

        load_params(args.params)
        write_json(args.out, {"params": str(args.params), "status": "valid"})

    run_stage("check_params", body)


if __name__ == "__main__":
    main()

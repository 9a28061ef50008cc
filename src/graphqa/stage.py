"""What every DVC stage script shares: logging set-up and a clean failure.

A stage that fails prints one line naming the file/key and what was expected,
exits non-zero (so ``dvc repro`` reports the stage failed) and leaves its
outputs as they were: every writer in the library writes to a temporary name
and renames.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("graphqa")


def setup_logging(verbose: bool = False) -> None:
    level = logging.DEBUG if verbose or os.environ.get("GRAPHQA_VERBOSE") else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments every training stage takes: its inputs, its run dir and the params file."""
    parser.add_argument("--packed", type=Path, default=Path("artifacts/packed"), help="packed stores (pack stage)")
    parser.add_argument("--schema", type=Path, default=Path("artifacts/schema/feature_metadata.json"))
    parser.add_argument("--out", type=Path, required=True, help="run directory")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))


def run_stage(name: str, body: Callable[[], object]) -> None:
    """Run a stage body; turn expected errors into one clear line and exit code 1."""
    setup_logging()
    try:
        body()
    except (ValueError, OSError, RuntimeError) as exc:  # ParamsError, DataError, SchemaMismatch, NaN guard…
        log.debug("stage %s failed", name, exc_info=True)
        log.error("stage %s: %s", name, exc)
        sys.exit(1)
    except KeyboardInterrupt:
        log.error("stage %s: interrupted. Its saved state is kept: continue with `dvc exp run -S profile=resume` "
                  "(or `graphqa params compose --profile resume && dvc repro`)", name)
        sys.exit(130)

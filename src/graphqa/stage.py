"""What every DVC stage script shares: logging set-up and a clean failure.

A stage that fails prints one line naming the file/key and what was expected,
exits non-zero (so ``dvc repro`` reports the stage failed) and leaves its
outputs as they were: every writer in the library writes to a temporary name
and renames.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

log = logging.getLogger("graphqa")


def setup_logging(verbose: bool = False) -> None:
    level = logging.DEBUG if verbose or os.environ.get("GRAPHQA_VERBOSE") else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")


def run_stage(name: str, body: Callable[[], object]) -> None:
    """Run a stage body; turn expected errors into one clear line and exit code 1."""
    setup_logging()
    try:
        body()
    except (ValueError, OSError, RuntimeError) as exc:  # ParamsError, DataError, SchemaMismatch, NaN guard…
        log.debug("stage %s failed", name, exc_info=True)
        print(f"error: stage {name}: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"error: stage {name}: interrupted; rerun with the `resume` profile to continue", file=sys.stderr)
        sys.exit(130)

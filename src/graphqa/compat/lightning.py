"""Where graphqa relies on Lightning's private state: here and nowhere else.

* A checkpoint's ``loops.fit_loop["epoch_loop.state_dict"]["_batches_that_stepped"]``:
  the step the loggers were at when it was saved (``global_step`` counts
  optimizer steps, which differ under gradient accumulation). Read on resume to
  drop the DVCLive rows a killed run logged after its last checkpoint.
  ``tests/compat/test_upstream.py`` checks a real checkpoint still carries it.
"""

from __future__ import annotations

from typing import Any


def checkpoint_step(checkpoint: dict[str, Any]) -> int:
    """The logger step at which a Lightning checkpoint was saved."""
    loops = checkpoint.get("loops", {}).get("fit_loop", {})
    return int(loops.get("epoch_loop.state_dict", {}).get("_batches_that_stepped", checkpoint.get("global_step", 0)))

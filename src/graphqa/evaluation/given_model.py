"""The ``score_model`` stage (the ``predict_only`` profile): score one given model on the packed splits.

No training: the model (an exported model directory such as the evaluate
stage's ``artifacts/model``, or a ``.ckpt``) is a DVC dependency of the stage,
so replacing it reruns the scoring, and nothing upstream of training is
needed. Writes what evaluate writes for its final model (headline,
predictions, per-target table, plots data), without exporting anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphqa.config import Params


def score_given_model(params: Params, model: Path, packed: Path, out: Path, device: str = "auto") -> dict[str, Any]:
    """Validation and test metrics of ``model``; returns the headline written to ``out/headline.json``."""
    from graphqa.data import PackedGraphStore
    from graphqa.evaluation.candidates import Candidate, evaluate_candidates, write_evaluation
    from graphqa.inference.device import resolve_device
    from graphqa.inference.model_dir import model_checkpoints

    candidate = Candidate("given_model", tuple(model_checkpoints(model)))
    val_store, test_store = PackedGraphStore.open(packed / "val"), PackedGraphStore.open(packed / "test")
    (result,) = evaluate_candidates([candidate], val_store, test_store, params, resolve_device(device))
    return write_evaluation([result], result, test_store, params, out, None)

"""Real artifacts for the CLI tests: two tiny runs trained on the shared demo data, one exported model.

Everything is made once per session from the shared ``packed_demo`` fixture
(tests/conftest.py): the ci_fast profile composed from the real params/,
``train_run`` (the train stage's library call) and ``Predictor.export``
(the evaluate stage's export).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from graphqa.compose import composed
from graphqa.config import Params, params_from_dict

ROOT = Path(__file__).resolve().parents[2]
GRAPHQA = Path(sys.executable).parent / "graphqa"


@dataclass(frozen=True)
class Trained:
    """Two finished runs under ``runs/`` and the better one's best checkpoint exported."""

    demo: object  # tests.conftest.PackedDemo
    params: Params
    runs_dir: Path  # runs/sweep/<member>/ run dirs
    run_dir: Path  # the 2-epoch run (exported)
    other_run_dir: Path  # a 1-epoch run with another seed
    model_dir: Path  # model.json, model.ckpt, feature_metadata.json
    test_graphs: Path  # the demo's test-split graphs alone, nested <TARGET>/<MODEL>.pt, no graph_metadata.json
    test_labels: Path

    @property
    def checkpoint(self) -> Path:
        return self.run_dir / "checkpoints" / "best.ckpt"


def ci_params(*overrides: str) -> Params:
    raw = composed(["ci_fast"], list(overrides), config_dir=ROOT / "params")
    raw["runtime"]["progress_bar"] = False
    return params_from_dict(raw)


@pytest.fixture(scope="session")
def trained(packed_demo, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    from graphqa.data import PackedGraphStore
    from graphqa.inference.predictor import Predictor
    from graphqa.training.run import train_run

    root = tmp_path_factory.mktemp("cli")
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("GRAPHQA_")}
    try:
        params = ci_params()
        run_dir = root / "runs" / "sweep" / "baseline-222"
        train_run(params, packed_demo.packed_dir, packed_demo.schema_path, run_dir)
        other = root / "runs" / "sweep" / "baseline-7"
        quick = ci_params("seed=7", "trainer.max_epochs=1", "trainer.limit_train_batches=2")
        train_run(quick, packed_demo.packed_dir, packed_demo.schema_path, other)
    finally:
        os.environ.update(saved)
    model_dir = Predictor.from_checkpoints([run_dir / "checkpoints" / "best.ckpt"]).export(
        root / "model", packed_demo.schema_path, {"candidate": "sweep_winner"})

    # "New" graphs: the test split's target folders, copied without graph_metadata.json.
    test_store = PackedGraphStore.open(packed_demo.packed_dir / "test")
    test_graphs = root / "test_graphs"
    for target in test_store.target_names:
        shutil.copytree(packed_demo.data_dir / "graphs" / target, test_graphs / target)
    return Trained(packed_demo, params, root / "runs", run_dir, other, model_dir, test_graphs,
                   packed_demo.data_dir / "labels" / "test.csv")


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run ``graphqa ARGS`` in-process through the console script's ``main()`` (its error handling included)."""
    from graphqa.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["graphqa", *map(str, args)])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run

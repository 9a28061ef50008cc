"""Precision fallback: one training epoch of ``ampere_bf16`` on a CPU-only machine, before and after the fallback.

``python -m benchmarks.precision_fallback [--reps N] [--epochs N] [--workdir DIR]``

Interleaved fits of the default network on the benchmark demo (30 targets × 40
decoys), each built the way ``train_run`` builds it (``build_trainer`` with a
:class:`~graphqa.training.hardware.HardwareFit`; no loggers or checkpoints),
three kinds per repetition:

* ``fallback``: the ``ampere_bf16`` profile as it runs now on this machine
  (``fit_to_machine``: 32-true, TF32 off, unpinned, workers capped at the usable CPUs);
* ``as_asked``: the same profile with every requested value used as asked
  (bf16 autocast on the CPU, 4 workers, pinned memory): what it did before;
* ``fp32_default``: the default profile (32-true, 0 workers).

Every training epoch after a fit's first is a sample (validation excluded); the
figures are medians, and the ratios are between medians of the same run. Not a
``make bench`` group: it only means something on a machine without CUDA.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import warnings
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, Settings, median, prepare_dataset, summary
from benchmarks.epoch import _epoch_timer

log = logging.getLogger("benchmarks.precision_fallback")
KINDS = ("fallback", "as_asked", "fp32_default")


def _params(profile: str | None, epochs: int) -> Any:
    from graphqa.compose import composed
    from graphqa.config import params_from_dict

    overrides = [f"trainer.max_epochs={epochs}", "early_stopping.enabled=false", "runtime.progress_bar=false",
                 "trainer.limit_val_batches=1"]
    return params_from_dict(composed([profile] if profile else [], overrides, config_dir=ROOT / "params"))


def _fit(kind: str, data: Any, epochs: int, run_dir: Path) -> tuple[list[float], str, dict[str, Any]]:
    import lightning as L

    from graphqa.data import FeatureSchema, GraphDataModule
    from graphqa.training.hardware import HardwareFit, fit_to_machine
    from graphqa.training.module import GraphQAModule
    from graphqa.training.trainer import build_trainer, training_data_params

    params = _params(None if kind == "fp32_default" else "ampere_bf16", epochs)
    hardware = fit_to_machine(params)
    if kind == "as_asked":
        hardware = HardwareFit(hardware.machine, hardware.requested, dict(hardware.requested))
    schema = FeatureSchema.load(data.schema)
    datamodule = GraphDataModule(data.packed, training_data_params(hardware.apply_runtime(params)), data.schema)
    L.seed_everything(params.seed, verbose=False)
    module = GraphQAModule(schema.node_dim, schema.edge_dim, params, schema.to_dict(), schema.digest())
    timer = _epoch_timer()
    trainer = build_trainer(params, run_dir, callbacks=[], loggers=False, hardware=hardware, extra_callbacks=[timer])
    trainer.fit(module, datamodule=datamodule)
    return [e["train_s"] for e in timer.epochs], str(trainer.precision), hardware.used


def measure(reps: int, epochs: int, workdir: Path) -> dict[str, Any]:
    import torch

    settings = Settings.full()
    data = prepare_dataset(workdir, settings.demo_targets, settings.demo_decoys)
    samples: dict[str, list[float]] = {k: [] for k in KINDS}
    used: dict[str, Any] = {}
    threads = torch.get_num_threads()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore")
            for rep in range(reps):
                for kind in KINDS:
                    epoch_s, precision, values = _fit(kind, data, epochs, Path(tempfile.mkdtemp(dir=workdir)))
                    samples[kind].extend(epoch_s[1:] or epoch_s)
                    used[kind] = {**values, "trainer precision": precision}
                    log.info("rep %d %s (%s): train epochs %s s", rep + 1, kind, precision, epoch_s)
                log.info("rep %d/%d done", rep + 1, reps)
    finally:
        torch.set_num_threads(threads)
    medians = {k: median(v) for k, v in samples.items()}
    return {
        "graphs": data.num_graphs, "epochs_per_fit": epochs, "reps": reps, "cuda": torch.cuda.is_available(),
        "used": used, "train_epoch_s": {k: summary(v) for k, v in samples.items()},
        "ratio_as_asked_to_fallback": round(medians["as_asked"] / medians["fallback"], 3),
        "ratio_fallback_to_fp32_default": round(medians["fallback"] / medians["fp32_default"], 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.precision_fallback", description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per fit (the first is warm-up, not a sample)")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (the demo data there is reused)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("lightning", "lightning.pytorch", "lightning.pytorch.utilities.rank_zero", "graphqa", "dvclive"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="graphqa-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(json.dumps(measure(args.reps, args.epochs, workdir), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Epoch: one training epoch through Lightning, our data path vs the baseline data path, same model.

Side by side (interleaved fits): ``GraphQAModule`` with the default params (eager, and compiled as
``trainer.compile=on`` does it)
(scheduler off, because validation is off here and the plateau scheduler
needs a validation metric) trained by a plain ``lightning.Trainer`` (CPU,
32-true, the default gradient clipping, no logger, no checkpoints, no
validation), fed either by ``GraphDataModule.train_dataloader()`` (the packed
store) or by a PyG ``DataLoader`` over per-file ``torch.load`` (the baseline),
both with 0 workers and the default batch size. Every epoch of every fit is
one sample; the figure is their median.

Also: the real training path (``build_trainer`` with the run's own callbacks,
DVCLive logging, whole-set validation and checkpointing, as ``train_run``
builds it) in a fresh process, with the wall time and the resident memory of
every epoch, so that the cost of validation/logging and memory growth over
epochs are visible.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    BIN,
    Dataset,
    Settings,
    baseline_dataset,
    default_params,
    median,
    proc_status_mb,
    run_json,
    summary,
)

log = logging.getLogger("benchmarks.epoch")


def _epoch_timer() -> Any:
    from lightning.pytorch.callbacks import Callback

    class EpochTimer(Callback):
        """Wall time of each training epoch (and of its validation, if any) and memory at its end."""

        def __init__(self) -> None:
            self.epochs: list[dict[str, float]] = []
            self._start = self._val_start = 0.0
            self._val = 0.0

        def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
            self._start, self._val = time.perf_counter(), 0.0

        def on_validation_start(self, trainer: Any, pl_module: Any) -> None:
            self._val_start = time.perf_counter()

        def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
            if not trainer.sanity_checking:
                self._val += time.perf_counter() - self._val_start

        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            total = time.perf_counter() - self._start
            self.epochs.append({"epoch": trainer.current_epoch, "epoch_s": round(total, 4),
                                "validation_s": round(self._val, 4), "train_s": round(total - self._val, 4),
                                **proc_status_mb()})

    return EpochTimer()


def _fit(kind: str, data: Dataset, params: Any, epochs: int) -> list[float]:
    import lightning as L
    import torch
    from torch_geometric.loader import DataLoader as PyGDataLoader

    from graphqa.data import FeatureSchema, GraphDataModule
    from graphqa.training.module import GraphQAModule

    schema = FeatureSchema.load(data.schema)
    datamodule = GraphDataModule(data.packed, params, data.schema)
    if kind == "packed":
        loader = datamodule.train_dataloader()
    else:
        loader = PyGDataLoader(baseline_dataset(datamodule.store("train")), batch_size=params.data.batch_size,
                               shuffle=True, num_workers=0, generator=torch.Generator().manual_seed(params.seed))
    L.seed_everything(params.seed, verbose=False)
    module = GraphQAModule(schema.node_dim, schema.edge_dim, params, schema.to_dict(), schema.digest())
    timer = _epoch_timer()
    trainer = L.Trainer(accelerator="cpu", devices=1, precision="32-true", max_epochs=epochs, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        num_sanity_val_steps=0, limit_val_batches=0, use_distributed_sampler=False,
                        gradient_clip_val=params.trainer.gradient_clip_val,
                        gradient_clip_algorithm=params.trainer.gradient_clip_algorithm, callbacks=[timer])
    trainer.fit(module, train_dataloaders=loader)
    return [e["epoch_s"] for e in timer.epochs]


def side_by_side(data: Dataset, settings: Settings) -> dict[str, Any]:
    """Interleaved fits: packed eager, packed compiled (``trainer.compile=on``; ``make bench`` only), baseline eager.

    Every epoch after a fit's first is a sample (steady state); first epochs are
    reported apart: a compiled fit's first epoch carries the compilation (once
    per process: later fits reuse the compiled code), every kind's the warm-up.
    """
    import warnings

    import torch

    from benchmarks.train_step import project_threads

    common = ("scheduler.name=none", "trainer.accelerator=cpu", "trainer.precision=32-true")
    params = default_params(*common, "trainer.compile=off")
    kinds = ("packed", "compiled", "baseline") if settings.mode == "full" else ("packed", "baseline")
    kind_params = {"packed": params, "baseline": params, "compiled": default_params(*common, "trainer.compile=on")}
    samples: dict[str, list[float]] = {k: [] for k in kinds}
    first: dict[str, list[float]] = {k: [] for k in kinds}
    default_threads = torch.get_num_threads()
    threads = project_threads(params)  # as build_trainer sets them for a CPU run
    torch.set_num_threads(threads)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*(does not have many workers|val_dataloader|LeafSpec).*")
            for rep in range(settings.reps):
                for kind in kinds:
                    epochs = _fit("baseline" if kind == "baseline" else "packed", data, kind_params[kind],
                                  settings.epoch_epochs)
                    first[kind].append(epochs[0])
                    samples[kind].extend(epochs[1:] or epochs)
                log.info("epoch: rep %d/%d done", rep + 1, settings.reps)
    finally:
        torch.set_num_threads(default_threads)
    theirs = median(samples["baseline"])
    best = "compiled" if "compiled" in samples else "packed"
    out = {
        "batch_size": params.data.batch_size, "workers": 0, "epochs_per_fit": settings.epoch_epochs, "threads": threads,
        "samples": "epochs after each fit's first" if settings.epoch_epochs > 1 else "every epoch",
        "packed_epoch_s": summary(samples["packed"]), "baseline_epoch_s": summary(samples["baseline"]),
        "first_epoch_s": {k: summary(v) for k, v in first.items()},
        "ratio_eager": round(median(samples["packed"]) / theirs, 3) if theirs else None,
        "ratio_of": best, "ratio": round(median(samples[best]) / theirs, 3) if theirs else None,
    }
    if "compiled" in samples:
        out["compiled_epoch_s"] = summary(samples["compiled"])
    return out


def real_run(data: Dataset, settings: Settings, workdir: Path) -> dict[str, Any]:
    """The real training path in a fresh process: per-epoch wall time (with validation) and memory.

    The smoke run calls the same probe in this process (its memory figures then mean little).
    """
    run_dir = Path(tempfile.mkdtemp(prefix="real-run-", dir=workdir))
    args = ["--packed", str(data.packed), "--schema", str(data.schema), "--run-dir", str(run_dir),
            "--epochs", str(settings.rss_epochs)]
    if settings.mode == "quick":
        import torch

        threads = torch.get_num_threads()
        try:  # build_trainer sets the process's thread count
            return {**_probe(_parser().parse_args(["probe", *args])), "in_process": True}
        finally:
            torch.set_num_threads(threads)
    return run_json([str(BIN / "python"), "-m", "benchmarks.epoch", "probe", *args])


def run(data: Dataset, settings: Settings, workdir: Path) -> dict[str, Any]:
    result = {"lightning": side_by_side(data, settings)}
    result["real_run"] = real_run(data, settings, workdir)
    return result


# ---------------------------------------------------------------- helper process


def _probe(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    import warnings

    import torch

    from graphqa.data import FeatureSchema, GraphDataModule
    from graphqa.training.module import GraphQAModule
    from graphqa.training.trainer import build_trainer, resolve_precision, training_data_params

    imported = time.perf_counter()
    params = default_params(f"trainer.max_epochs={args.epochs}", "runtime.progress_bar=false",
                            "early_stopping.enabled=false").for_member("baseline", 222)
    schema = FeatureSchema.load(args.schema)
    datamodule = GraphDataModule(args.packed, training_data_params(params), args.schema)
    module = GraphQAModule(schema.node_dim, schema.edge_dim, params, schema.to_dict(), schema.digest())
    timer = _epoch_timer()
    trainer = build_trainer(params, Path(args.run_dir), extra_callbacks=[timer])
    before = proc_status_mb()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")
        trainer.fit(module, datamodule=datamodule, weights_only=True)
    return {
        "profile": "default (sweep member baseline-222)", "precision": resolve_precision(params.trainer.precision, "auto"),
        "train_graphs": len(datamodule.store("train")), "val_graphs": len(datamodule.store("val")),
        "import_s": round(imported - started, 3), "total_s": round(time.perf_counter() - started, 3),
        "rss_before_fit_mb": before, "threads": torch.get_num_threads(), "epochs": timer.epochs,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="benchmark helper: the real training path, one process")
    parser.add_argument("what", choices=["probe"])
    parser.add_argument("--packed", type=Path, required=True)
    parser.add_argument("--schema", type=Path, required=True)
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=3)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(_probe(args)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""Typed, validated view of params.yaml.

The composed params are read once, at the edge, into frozen dataclasses; the
rest of the library never reads raw dicts. Every error names the offending key
and what was expected, so ``dvc exp run -S trainer.precision=fp8`` fails before
any training starts.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import os
import re
import reprlib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import yaml

PARAMS_FILE = Path("params.yaml")
SEED_MAX = 2**32 - 1  # numpy and Lightning accept seeds in [0, 2**32 - 1]
FLOAT32_MAX = 3.4028234663852886e38  # training computes in float32 (or less): larger values become inf
YAML_MAX_VALUES = 100_000  # a params file is a few hundred values; anchors/aliases must not expand past this

Precision = Literal["auto", "32-true", "16-mixed", "bf16-mixed", "64-true", "32", "16", "bf16"]


class ParamsError(ValueError):
    """A parameter is missing, unknown, of the wrong type or out of range."""


def _fail(key: str, message: str) -> typing.NoReturn:
    raise ParamsError(f"{key}: {message}")


def _check(condition: bool, key: str, message: str) -> None:
    if not condition:
        _fail(key, message)


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = 6
_SHORT.maxlevel = 3


def _show(value: Any) -> str:
    """A bounded repr for messages: a huge (or alias-exploded) value never becomes a huge string."""
    return _SHORT.repr(value)


def _check_seeds(seeds: list[int], key: str) -> None:
    """Seeds are unique and in [0, 2**32 - 1] (what numpy and Lightning accept)."""
    for i, seed in enumerate(seeds):
        _check(0 <= seed <= SEED_MAX, f"{key}[{i}]", f"seed {seed} is out of range; expected an integer in [0, {SEED_MAX}]")
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    _check(not repeated, key, f"seed {repeated[0] if repeated else ''} is listed more than once; expected distinct "
           "seeds (a repeated seed trains the same run twice)")


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class RuntimeParams:
    """Knobs that never change a run's results: no stage lists them, so changing one invalidates nothing.

    They still reach every run (and its manifest); ``GRAPHQA_*`` environment
    variables override them (docs/ARCHITECTURE.md, "Params").
    """

    num_workers: int = 0
    pin_memory: bool = False
    prefetch_factor: int = 2
    persistent_workers: bool = False
    eval_batch_size: int = 128
    progress_bar: bool = True
    cpu_threads: int = 1
    resume: bool = False
    hpo_trial: str | None = None  # "<study>/<trial>": set by `graphqa hpo run` on a pruned study's trials

    def __post_init__(self) -> None:
        if self.hpo_trial is not None:
            study, _, number = self.hpo_trial.rpartition("/")
            _check(number.isdigit() and STUDY_NAME.fullmatch(study) is not None, "runtime.hpo_trial",
                   f"{_show(self.hpo_trial)}: expected '<study>/<trial number>' or null")
        _check(self.num_workers >= 0, "runtime.num_workers", "expected an integer >= 0")
        _check(self.prefetch_factor >= 1, "runtime.prefetch_factor", "expected an integer >= 1")
        _check(self.eval_batch_size >= 1, "runtime.eval_batch_size", "expected an integer >= 1")
        _check(self.cpu_threads >= 0, "runtime.cpu_threads", "expected an integer >= 0 (0: torch's default)")


@dataclass(frozen=True)
class DataParams:
    min_coverage: float = 0.95
    batch_size: int = 32
    shuffle: bool = True
    drop_last: bool = False
    # Largest graph accepted (graphqa.data.graph.GraphLimits has the same defaults); real interface graphs have
    # 10-200 nodes and 40-1,300 edges
    max_nodes: int = 5_000
    max_edges: int = 100_000
    max_graph_bytes: int = 256 * 2**20

    def __post_init__(self) -> None:
        _check(0.0 <= self.min_coverage <= 1.0, "data.min_coverage", "expected a value in [0, 1]")
        for name in ("max_nodes", "max_edges", "max_graph_bytes"):
            _check(getattr(self, name) >= 1, f"data.{name}", "expected an integer >= 1")
        _check(self.batch_size >= 1, "data.batch_size", "expected an integer >= 1")


@dataclass(frozen=True)
class TopoQAParams:
    """Sizes only the ``topoqa`` network has (published values as defaults)."""

    attention_dropout: float = 0.25
    edge_summary_dim: int = 16
    readout_hidden2: int = 64

    def __post_init__(self) -> None:
        _check(0.0 <= self.attention_dropout < 1.0, "model.topoqa.attention_dropout", "expected a value in [0, 1)")
        for name in ("edge_summary_dim", "readout_hidden2"):
            _check(getattr(self, name) >= 1, f"model.topoqa.{name}", "expected an integer >= 1")


@dataclass(frozen=True)
class ModelParams:
    arch: str = "gatv2_edge"  # a key of graphqa.models.registry.ARCHS
    hidden_dim: int = 32
    edge_hidden_dim: int = 32
    num_layers: int = 2
    heads: int = 8
    dropout: float = 0.25
    activation: Literal["elu", "relu", "gelu"] = "elu"
    pooling: Literal["mean", "add", "max"] = "mean"
    edge_encoder: Literal["linear", "layernorm"] = "layernorm"
    edge_update: bool = True
    readout_hidden: int = 64
    sigmoid: bool = True
    topoqa: TopoQAParams = field(default_factory=TopoQAParams)
    init_from: str | None = None  # start training from these weights (a .ckpt or an exported/imported model dir)

    def __post_init__(self) -> None:
        from graphqa.models.registry import ARCHS

        _check(self.arch in ARCHS, "model.arch", f"expected one of {', '.join(sorted(ARCHS))}")
        for name in ("hidden_dim", "edge_hidden_dim", "num_layers", "heads", "readout_hidden"):
            _check(getattr(self, name) >= 1, f"model.{name}", "expected an integer >= 1")
        _check(0.0 <= self.dropout < 1.0, "model.dropout", "expected a value in [0, 1)")
        _check(self.init_from is None or self.init_from.strip() != "", "model.init_from",
               "expected a checkpoint path or null")


@dataclass(frozen=True)
class PriorWeights:
    ranking: float = 0.5
    ranking_margin: float = 0.0
    listwise: float = 0.1
    listwise_temperature: float = 0.1

    def __post_init__(self) -> None:
        _check(self.ranking >= 0, "loss.priors.ranking", "expected a weight >= 0")
        _check(self.ranking_margin >= 0, "loss.priors.ranking_margin", "expected a value >= 0")
        _check(self.listwise >= 0, "loss.priors.listwise", "expected a weight >= 0")
        _check(self.listwise_temperature > 0, "loss.priors.listwise_temperature", "expected a value > 0")


@dataclass(frozen=True)
class LossParams:
    mse_weight: float = 1.0
    priors: PriorWeights = field(default_factory=PriorWeights)

    def __post_init__(self) -> None:
        _check(self.mse_weight >= 0, "loss.mse_weight", "expected a weight >= 0")


@dataclass(frozen=True)
class OptimizerParams:
    name: Literal["adam", "adamw"] = "adam"
    lr: float = 0.005
    weight_decay: float = 0.0
    scale_lr: bool = False
    reference_batch_size: int = 32

    def __post_init__(self) -> None:
        _check(self.lr > 0, "optimizer.lr", f"expected a learning rate > 0, got {self.lr}")
        _check(self.weight_decay >= 0, "optimizer.weight_decay", "expected a value >= 0")
        _check(self.reference_batch_size >= 1, "optimizer.reference_batch_size", "expected an integer >= 1")


@dataclass(frozen=True)
class SchedulerParams:
    name: Literal["none", "reduce_on_plateau", "cosine"] = "reduce_on_plateau"
    factor: float = 0.5
    patience: int = 4
    warmup_epochs: int = 0
    min_lr: float = 1e-5

    def __post_init__(self) -> None:
        _check(0.0 < self.factor < 1.0, "scheduler.factor", "expected a value in (0, 1)")
        _check(self.patience >= 0, "scheduler.patience", "expected an integer >= 0")
        _check(self.warmup_epochs >= 0, "scheduler.warmup_epochs", "expected an integer >= 0")
        _check(self.min_lr >= 0, "scheduler.min_lr", "expected a value >= 0")


@dataclass(frozen=True)
class TrainerParams:
    accelerator: Literal["auto", "cpu", "gpu", "cuda", "mps", "tpu"] = "auto"
    devices: int | str = "auto"
    num_nodes: int = 1
    strategy: str = "auto"
    precision: Precision = "auto"
    tf32: bool = False
    hardware_fallback: bool = True  # precision/TF32 this machine lacks: warn once, use what fits (false: fail)
    deterministic: bool = False
    benchmark: bool = False
    max_epochs: int = 30
    max_time: str | None = None
    accumulate_grad_batches: int = 1
    gradient_clip_val: float | None = 1.0
    gradient_clip_algorithm: Literal["norm", "value"] = "norm"
    val_check_interval: int | float = 1.0
    check_val_every_n_epoch: int = 1
    limit_train_batches: int | float = 1.0
    limit_val_batches: int | float = 1.0
    overfit_batches: int | float = 0.0
    fast_dev_run: bool | int = False
    detect_anomaly: bool = False
    profiler: Literal["simple", "advanced", "pytorch"] | None = None
    log_every_n_steps: int = 10
    sync_batchnorm: bool = False
    diagnostics: bool = False
    # off | on | auto (YAML's bare on/off are booleans: true/false mean on/off); models.compile says when auto compiles
    compile: bool | Literal["off", "on", "auto"] = "auto"

    def __post_init__(self) -> None:
        if isinstance(self.compile, bool):
            object.__setattr__(self, "compile", "on" if self.compile else "off")
        if isinstance(self.devices, str):
            _check(self.devices == "auto" or self.devices.lstrip("-").isdigit() or "," in self.devices,
                   "trainer.devices", "expected 'auto', a device count or a comma-separated id list")
        else:
            _check(self.devices >= 1 or self.devices == -1, "trainer.devices", "expected 'auto', -1 or an integer >= 1")
        _check(self.num_nodes >= 1, "trainer.num_nodes", "expected an integer >= 1")
        _check(self.max_epochs >= 1, "trainer.max_epochs",
               f"{self.max_epochs} epochs would train nothing (or forever); expected an integer >= 1")
        _check(self.accumulate_grad_batches >= 1, "trainer.accumulate_grad_batches", "expected an integer >= 1")
        _check(self.check_val_every_n_epoch >= 1, "trainer.check_val_every_n_epoch", "expected an integer >= 1")
        _check(self.log_every_n_steps >= 1, "trainer.log_every_n_steps", "expected an integer >= 1")
        for name in ("limit_train_batches", "limit_val_batches", "overfit_batches", "val_check_interval"):
            value = getattr(self, name)
            if name == "limit_val_batches":
                _check(value > 0, "trainer.limit_val_batches",
                       f"{value} skips validation, which selection and checkpoints need; expected a fraction in (0, 1] "
                       "or a batch count >= 1")
            if isinstance(value, float):
                _check(0.0 <= value <= 1.0, f"trainer.{name}", "expected a fraction in [0, 1] or a batch count")
            else:
                _check(value >= 0, f"trainer.{name}", "expected a batch count >= 0")
        if self.gradient_clip_val is not None:
            _check(self.gradient_clip_val >= 0, "trainer.gradient_clip_val", "expected a value >= 0 or null")
        if self.max_time is not None:
            parts = self.max_time.split(":")
            _check(len(parts) == 4 and all(p.isdigit() for p in parts), "trainer.max_time",
                   f"expected 'DD:HH:MM:SS' or null, got {_show(self.max_time)}")
            _check(any(int(p) for p in parts), "trainer.max_time",
                   f"{self.max_time!r} would stop before the first step; expected a positive 'DD:HH:MM:SS' or null")


@dataclass(frozen=True)
class EarlyStoppingParams:
    enabled: bool = True
    patience: int = 8
    min_delta: float = 0.0

    def __post_init__(self) -> None:
        _check(self.patience >= 0, "early_stopping.patience", "expected an integer >= 0")
        _check(self.min_delta >= 0, "early_stopping.min_delta", "expected a value >= 0")


@dataclass(frozen=True)
class CheckpointParams:
    save_top_k: int = 3
    save_last: bool = True

    def __post_init__(self) -> None:
        _check(self.save_top_k >= 1, "checkpoint.save_top_k", "expected an integer >= 1")


@dataclass(frozen=True)
class SelectionParams:
    use_val_spearman: bool = True
    spearman_weight: float = 0.1
    spearman_min_delta: float = 0.0

    def __post_init__(self) -> None:
        _check(self.spearman_weight >= 0, "selection.spearman_weight", "expected a weight >= 0")


# Sections an overlay (sweep variant, fine-tune phase) may change.
TRAINING_SECTIONS = ("data", "model", "loss", "optimizer", "scheduler", "trainer", "early_stopping", "checkpoint")
FINETUNE_SECTIONS = tuple(s for s in TRAINING_SECTIONS if s != "model")  # weights must still fit


SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class SweepParams:
    seeds: list[int] = field(default_factory=lambda: [222])
    variants: list[str] = field(default_factory=lambda: ["baseline"])
    overlays: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check(len(self.seeds) >= 1, "sweep.seeds", "expected at least one seed")
        _check_seeds(self.seeds, "sweep.seeds")
        _check(len(self.variants) >= 1, "sweep.variants", "expected at least one variant")
        _check(len(set(self.variants)) == len(self.variants), "sweep.variants", "variant names must be unique")
        for name in self.variants:
            # Variant names become DVC stage names, folder names and stage-command arguments:
            # nothing a shell would interpret.
            _check(SAFE_NAME.fullmatch(name) is not None and not name.endswith("-"), f"sweep.variants[{_show(name)}]",
                   "expected letters, digits, '_', '.' or '-' only (not ending in '-'; members are named "
                   "<variant>-<seed> and name DVC stages and run folders)")
            _check(name in self.overlays, f"sweep.variants[{name}]",
                   f"no overlay sweep.overlays.{name}; defined: {', '.join(sorted(self.overlays)) or 'none'}")
        for name, overlay in self.overlays.items():
            _check_overlay(overlay, f"sweep.overlays.{name}", TRAINING_SECTIONS)

    @property
    def members(self) -> list[str]:
        """Member ids, as the train stage names them: ``<variant>-<seed>``."""
        return [member_id(v, s) for v in self.variants for s in self.seeds]


def member_id(variant: str, seed: int) -> str:
    return f"{variant}-{seed}"


@dataclass(frozen=True)
class FinetunePhase:
    overlay: dict[str, Any] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class FinetuneParams:
    phase1: FinetunePhase = field(default_factory=FinetunePhase)
    phase2: FinetunePhase = field(default_factory=FinetunePhase)


@dataclass(frozen=True)
class EvaluateParams:
    hit_thresholds: list[float] = field(default_factory=lambda: [0.23, 0.49, 0.80])
    top_k: int = 10
    submission: bool = False
    bootstrap_resamples: int = 1000
    bootstrap_seed: int = 0

    def __post_init__(self) -> None:
        _check(self.top_k >= 1, "evaluate.top_k", "expected an integer >= 1")
        _check(self.bootstrap_resamples >= 1, "evaluate.bootstrap_resamples", "expected an integer >= 1")
        _check(0 <= self.bootstrap_seed < 2**32, "evaluate.bootstrap_seed", "expected an integer in [0, 2**32)")
        _check(all(0.0 <= t <= 1.0 for t in self.hit_thresholds), "evaluate.hit_thresholds",
               "expected DockQ thresholds in [0, 1]")


SAFE_PATH = re.compile(r"[A-Za-z0-9_./-]+")


@dataclass(frozen=True)
class ScoreModelParams:
    """The ``score_model`` stage (``predict_only``): the model it scores, a DVC dependency."""

    model: str = "artifacts/model"  # an exported model dir (model.json) or a .ckpt

    def __post_init__(self) -> None:
        # The path is interpolated into the stage command and declared as a DVC dependency.
        _check(SAFE_PATH.fullmatch(self.model) is not None and ".." not in self.model.split("/"),
               "score_model.model", "expected a relative path of letters, digits, '_', '.', '-' and '/' "
               "inside the project (an exported model dir or a .ckpt)")


@dataclass(frozen=True)
class LoggingParams:
    mlflow: bool = False
    wandb: bool = False
    offline: bool = False
    project: str = "graphqa"
    verbose: bool = False


# ``graphqa hpo``: an Optuna study whose trials are DVC experiments (docs/ARCHITECTURE.md, "Hyper-parameter search").
HPO_OBJECTIVES = ("score", "val_loss", "val_spearman", "val_per_target_spearman", "val_ranking_loss")
HPO_UNSEARCHABLE = ("model.init_from",)  # a path, not a hyper-parameter
STUDY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def check_study_name(name: str, key: str = "hpo.study") -> str:
    """A study name: it names a SQLite file, DVC experiments (git refs) and a profile file."""
    _check(isinstance(name, str) and STUDY_NAME.fullmatch(name) is not None and ".." not in name
           and not name.endswith((".", ".lock")), key,
           f"{_show(name)} is not a study name; expected 1-64 letters, digits, '_', '.' or '-' (not starting with "
           "'.' or '-', no '..', not ending in '.' or '.lock')")
    return name


@dataclass(frozen=True)
class SearchDimension:
    """One searched key: ``float``/``int`` in [low, high] (``log``, ``step``) or ``categorical`` ``choices``."""

    key: str
    type: Literal["float", "int", "categorical"]
    low: int | float | None = None
    high: int | float | None = None
    log: bool = False
    step: int | float | None = None
    choices: list[Any] | None = None


@dataclass(frozen=True)
class HpoParams:
    """What ``graphqa hpo run`` searches and how; no stage lists this section (it changes no result)."""

    study: str = "graphqa"
    trials: int = 20
    parallel: int = 2
    member: str = "baseline"  # the sweep variant each trial trains: train@<member>-<first sweep seed>
    objective: Literal["score", "val_loss", "val_spearman", "val_per_target_spearman", "val_ranking_loss"] = "score"
    sampler: Literal["tpe", "random"] = "tpe"
    sampler_seed: int = 0
    pruning: bool = False
    space: list[SearchDimension] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_study_name(self.study)
        _check(self.trials >= 1, "hpo.trials", "expected an integer >= 1")
        _check(self.parallel >= 1, "hpo.parallel", "expected an integer >= 1 (trials run at once)")
        _check(0 <= self.sampler_seed <= SEED_MAX, "hpo.sampler_seed", f"expected an integer in [0, {SEED_MAX}]")
        keys = [dim.key for dim in self.space]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        _check(not repeated, "hpo.space", f"{repeated[0] if repeated else ''} is searched twice; expected each key once")
        for i, dim in enumerate(self.space):
            _check_dimension(dim, f"hpo.space[{i}]")


def _check_dimension(dim: SearchDimension, key: str) -> None:
    """A distribution Optuna accepts, over a key a trial may set with ``-S`` (values checked in params_from_dict)."""
    section, _, rest = dim.key.partition(".")
    _check(section in TRAINING_SECTIONS and rest != "", f"{key}.key",
           f"{_show(dim.key)}: expected a key of a training section ({', '.join(TRAINING_SECTIONS)}), "
           "e.g. optimizer.lr")
    _check(dim.key not in HPO_UNSEARCHABLE, f"{key}.key", f"{dim.key} is a path, not a hyper-parameter")
    if dim.type == "categorical":
        _check(dim.low is None and dim.high is None and dim.step is None and not dim.log, key,
               "a categorical dimension takes choices only (no low, high, step or log)")
        _check(bool(dim.choices), f"{key}.choices", "expected a non-empty list of choices")
        for choice in dim.choices or []:
            # Each choice becomes a `-S key=value` argument of `dvc exp run`: plain scalars, nothing Hydra parses.
            _check(isinstance(choice, (bool, int, float)) or isinstance(choice, str) and SAFE_NAME.fullmatch(choice)
                   is not None, f"{key}.choices", f"{_show(choice)}: expected numbers, true/false or names of "
                   "letters, digits, '_', '.' or '-'")
        return
    _check(dim.choices is None, f"{key}.choices", f"a {dim.type} dimension takes low and high, not choices")
    _check(dim.low is not None and dim.high is not None, key, f"a {dim.type} dimension needs low and high")
    assert dim.low is not None and dim.high is not None
    if dim.type == "int":
        for name in ("low", "high", "step"):
            value = getattr(dim, name)
            _check(value is None or isinstance(value, int), f"{key}.{name}", f"expected an integer, got {_show(value)}")
    _check(dim.low < dim.high, key, f"low {dim.low} must be below high {dim.high}")
    _check(not dim.log or dim.low > 0, f"{key}.low", "a log-scaled dimension needs low > 0")
    _check(dim.step is None or dim.step > 0, f"{key}.step", "expected a step > 0 or null")
    _check(not (dim.log and dim.step is not None), key, "log and step cannot be combined (Optuna refuses it)")


@dataclass(frozen=True)
class Params:
    """The whole, validated parameter set. Build it with :func:`load_params`."""

    seed: int = 222
    profiles: dict[str, bool] = field(default_factory=dict)
    data: DataParams = field(default_factory=DataParams)
    model: ModelParams = field(default_factory=ModelParams)
    loss: LossParams = field(default_factory=LossParams)
    optimizer: OptimizerParams = field(default_factory=OptimizerParams)
    scheduler: SchedulerParams = field(default_factory=SchedulerParams)
    trainer: TrainerParams = field(default_factory=TrainerParams)
    early_stopping: EarlyStoppingParams = field(default_factory=EarlyStoppingParams)
    checkpoint: CheckpointParams = field(default_factory=CheckpointParams)
    selection: SelectionParams = field(default_factory=SelectionParams)
    sweep: SweepParams = field(default_factory=SweepParams)
    finetune: FinetuneParams = field(default_factory=FinetuneParams)
    evaluate: EvaluateParams = field(default_factory=EvaluateParams)
    logging: LoggingParams = field(default_factory=LoggingParams)
    score_model: ScoreModelParams = field(default_factory=ScoreModelParams)
    hpo: HpoParams = field(default_factory=HpoParams)
    runtime: RuntimeParams = field(default_factory=RuntimeParams)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict in params.yaml's shape (fine-tune overlays inlined)."""
        raw = dataclasses.asdict(self)
        for name in ("phase1", "phase2"):
            phase = raw["finetune"][name]
            raw["finetune"][name] = {**phase.pop("overlay"), **({"seeds": phase["seeds"]} if name == "phase2" else {})}
        return raw

    def digest(self) -> str:
        """Stable short hash of the resolved params (for manifests)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]

    def result_dict(self) -> dict[str, Any]:
        """What decides a training run's results: the seed, the training sections and selection.

        Runtime knobs, applied profile names, logging, and the sweep/fine-tune/evaluate
        sections (a member's or phase's overlay is already applied) are left out.
        """
        raw = self.to_dict()
        return {key: raw[key] for key in ("seed", *TRAINING_SECTIONS, "selection")}

    def result_digest(self) -> str:
        """Stable short hash of :meth:`result_dict`."""
        return hashlib.sha256(json.dumps(self.result_dict(), sort_keys=True).encode()).hexdigest()[:16]

    def with_overlay(self, overlay: Mapping[str, Any], *, seed: int | None = None) -> Params:
        """A new validated Params with ``overlay`` deep-merged in (and the seed set)."""
        raw = deep_merge(self.to_dict(), overlay)
        if seed is not None:
            raw["seed"] = seed
        return params_from_dict(raw)

    def for_member(self, variant: str, seed: int) -> Params:
        """Params of the sweep member ``<variant>-<seed>``."""
        if variant not in self.sweep.overlays:
            _fail("sweep.variants", f"unknown variant {variant!r}; defined: {', '.join(sorted(self.sweep.overlays))}")
        return self.with_overlay(self.sweep.overlays[variant], seed=seed)

    def for_finetune(self, phase: Literal["phase1", "phase2"], seed: int | None = None) -> Params:
        """Params of a fine-tune phase: these params with the phase's overlay applied."""
        return self.with_overlay(getattr(self.finetune, phase).overlay, seed=seed)


# --------------------------------------------------------------------------- building


def deep_merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Recursively merge ``overlay`` into a copy of ``base`` (overlay wins; lists replace)."""
    merged = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _check_overlay(overlay: Any, key: str, sections: tuple[str, ...]) -> None:
    _check(isinstance(overlay, Mapping), key, f"expected a mapping of sections, got {type(overlay).__name__}")
    for section, values in overlay.items():
        _check(section in sections, f"{key}.{section}", f"an overlay may change only: {', '.join(sections)}")
        _check(isinstance(values, Mapping), f"{key}.{section}", "expected a mapping of keys")
    # The merged result must itself be valid: build the sections it touches.
    for section, values in overlay.items():
        cls = _SECTION_TYPES[section]
        try:
            _build(cls, deep_merge(dataclasses.asdict(cls()), values), f"{key}.{section}")
        except ParamsError as exc:
            if str(exc).startswith(key):
                raise
            raise ParamsError(f"{key}: {exc}") from None


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    return getattr(tp, "__name__", str(tp))


def _coerce(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value in allowed and not isinstance(value, bool):
            return value
        _fail(key, f"{_show(value)} is not allowed; expected one of: {', '.join(map(str, allowed))}")
    if origin in (Union, types.UnionType):
        for arm in typing.get_args(tp):
            try:
                return _coerce(arm, value, key)
            except ParamsError:
                continue
        _fail(key, f"expected {_type_name(tp)}, got {_show(value)}")
    if tp is type(None):
        _check(value is None, key, f"expected null, got {_show(value)}")
        return None
    if tp is bool:
        _check(isinstance(value, bool), key, f"expected true or false, got {_show(value)}")
        return value
    if tp is int:
        _check(isinstance(value, int) and not isinstance(value, bool), key, f"expected an integer, got {_show(value)}")
        return value
    if tp is float:
        _check(isinstance(value, (int, float)) and not isinstance(value, bool), key, f"expected a number, got {_show(value)}")
        _check(not (isinstance(value, float) and math.isnan(value)), key, "nan is not a number; expected a finite value")
        _check(isinstance(value, float) and math.isinf(value) or abs(value) <= FLOAT32_MAX, key,
               f"{_show(value)} is too large (beyond float32's {FLOAT32_MAX:.4g} it is inf in training); "
               "expected a finite value")
        _check(math.isfinite(value), key, f"{value} is not finite; expected a finite value")
        return float(value)
    if tp is str:
        _check(isinstance(value, str), key, f"expected a string, got {_show(value)}")
        return value
    if origin is list:
        _check(isinstance(value, list), key, f"expected a list, got {_show(value)}")
        (item,) = typing.get_args(tp)
        return [_coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _check(isinstance(value, Mapping), key, f"expected a mapping, got {_show(value)}")
        _, item = typing.get_args(tp)
        return {str(k): _coerce(item, v, f"{key}.{k}") for k, v in value.items()}
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key)
    raise TypeError(f"unsupported parameter type {tp!r} at {key}")  # a bug in this module


def _build(cls: type, data: Any, key: str) -> Any:
    where = key or "params"
    _check(isinstance(data, Mapping), where, f"expected a mapping, got {_show(data)}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for name in data:
        _check(name in names, f"{key}.{name}" if key else str(name),
               f"unknown key; expected one of: {', '.join(names)}")
    kwargs = {}
    for name in names:
        if name in data:
            kwargs[name] = _coerce(hints[name], data[name], f"{key}.{name}" if key else name)
    return cls(**kwargs)


def _build_finetune(data: Any) -> FinetuneParams:
    _check(isinstance(data, Mapping), "finetune", "expected a mapping with phase1 and phase2")
    for name in data:
        _check(name in ("phase1", "phase2"), f"finetune.{name}", "unknown key; expected one of: phase1, phase2")
    phases = {}
    for name in ("phase1", "phase2"):
        overlay = dict(data.get(name) or {})
        seeds = overlay.pop("seeds", None)
        key = f"finetune.{name}"
        if name == "phase1":
            _check(seeds is None, f"{key}.seeds", "phase 1 runs once from the sweep winner; seeds belong to phase2")
            seeds = []
        else:
            seeds = _coerce(list[int], seeds if seeds is not None else [101, 555, 888], f"{key}.seeds")
            _check(len(seeds) >= 1, f"{key}.seeds", "expected at least one seed")
            _check_seeds(seeds, f"{key}.seeds")
        _check_overlay(overlay, key, FINETUNE_SECTIONS)
        phases[name] = FinetunePhase(overlay=overlay, seeds=seeds)
    return FinetuneParams(**phases)


_SECTION_TYPES: dict[str, type] = {
    name: tp for name, tp in typing.get_type_hints(Params).items() if dataclasses.is_dataclass(tp)
}


def _check_lr_floor(params: Params) -> None:
    """``scheduler.min_lr`` must not exceed ``optimizer.lr`` in the base params, any variant or fine-tune phase."""
    overlays: list[tuple[str, Mapping[str, Any]]] = [("", {})]
    overlays += [(f"sweep.overlays.{v}", params.sweep.overlays.get(v, {})) for v in params.sweep.variants]
    for where, overlay in list(overlays):
        for phase in ("phase1", "phase2"):
            extra = getattr(params.finetune, phase).overlay
            if extra:
                overlays.append((f"{where} + finetune.{phase}" if where else f"finetune.{phase}",
                                 deep_merge(overlay, extra)))
    for where, overlay in overlays:
        optimizer = {**dataclasses.asdict(params.optimizer), **dict(overlay.get("optimizer") or {})}
        scheduler = {**dataclasses.asdict(params.scheduler), **dict(overlay.get("scheduler") or {})}
        lr = _coerce(float, optimizer["lr"], "optimizer.lr")
        min_lr = _coerce(float, scheduler["min_lr"], "scheduler.min_lr")
        if scheduler["name"] != "none" and min_lr > lr:
            _fail("scheduler.min_lr", f"{min_lr:g} is above optimizer.lr {lr:g}{f' (in {where})' if where else ''}, "
                  f"so the {scheduler['name']} schedule could never lower the lr; expected min_lr <= lr")


def _check_hpo_space(params: Params) -> None:
    """Each searched key exists and each of its extreme values or choices is valid there. (Whether ``hpo.member``
    is a sweep variant of these params is checked when a study starts: a profile may replace the variants.)"""
    hpo = params.hpo
    for i, dim in enumerate(hpo.space):
        key = f"hpo.space[{i}]"
        section, *path = dim.key.split(".")
        tp: Any = _SECTION_TYPES[section]
        for j, name in enumerate(path):
            fields = {f.name for f in dataclasses.fields(tp)} if dataclasses.is_dataclass(tp) else set()
            _check(name in fields, f"{key}.key", f"{dim.key}: no such key ({'.'.join([section, *path[:j]])} has: "
                   f"{', '.join(sorted(fields)) or 'no sub-keys'})")
            tp = typing.get_type_hints(tp)[name]
        _check(not dataclasses.is_dataclass(tp), f"{key}.key", f"{dim.key} is a section; expected one of its keys")
        values = dim.choices if dim.type == "categorical" else [dim.low, dim.high]
        for value in values or []:
            overlay: dict[str, Any] = {}
            node = overlay
            for name in path[:-1]:
                node = node.setdefault(name, {})
            node[path[-1]] = value
            try:
                _check_overlay({section: overlay}, key, TRAINING_SECTIONS)
            except ParamsError as exc:
                raise ParamsError(f"{key}: {dim.key}={_show(value)} is not valid there ({exc})") from None


def params_from_dict(raw: Mapping[str, Any]) -> Params:
    """Validate a params mapping (params.yaml's content) into :class:`Params`."""
    raw = dict(raw)
    raw.pop("params_check", None)  # the composition-time validation marker (graphqa.compat.hydra)
    finetune = _build_finetune(raw.pop("finetune", {}))
    params = _build(Params, raw, "")
    _check(0 <= params.seed <= SEED_MAX, "seed", f"seed {params.seed} is out of range; expected an integer in [0, {SEED_MAX}]")
    params = dataclasses.replace(params, finetune=finetune)
    _check_lr_floor(params)
    _check_hpo_space(params)
    return params


# YAML 1.2 (what DVC reads params.yaml with) takes ``1e-3`` for a float; PyYAML's YAML 1.1 needs a dot.
_YAML12_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$")


class _ParamsLoader(yaml.SafeLoader):
    """PyYAML's safe loader that reads floats as DVC does and refuses a key given twice in a mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[str, yaml.Node] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
                if key_node.value in seen:
                    first = seen[key_node.value].start_mark.line + 1
                    raise ParamsError(
                        f"line {key_node.start_mark.line + 1}: key {_show(key_node.value)} appears twice in the same "
                        f"mapping (first at line {first}); expected each key once (DVC refuses the file too)"
                    )
                seen[key_node.value] = key_node
        return super().construct_mapping(node, deep=deep)


_ParamsLoader.add_implicit_resolver("tag:yaml.org,2002:float", _YAML12_EXPONENT_FLOAT, list("-+0123456789."))


def _expanded_size(value: Any, limit: int) -> int:
    """How many values ``value`` holds once YAML aliases are expanded (stops counting past ``limit``)."""
    sizes: dict[int, int] = {}
    open_ids: set[int] = set()

    def size(node: Any) -> int:
        if not isinstance(node, (dict, list)):
            return 1
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_ids:
            raise ParamsError("a YAML alias refers to the mapping or list that contains it; expected plain values")
        open_ids.add(id(node))
        total = 1
        for child in (node.values() if isinstance(node, dict) else node):
            total += size(child)
            if total > limit:
                break
        open_ids.discard(id(node))
        sizes[id(node)] = total
        return total

    return size(value)


def read_params_yaml(text: str, where: str) -> Any:
    """Parse params YAML as DVC does, refusing duplicate keys, alias bombs and absurd nesting."""
    try:
        raw = yaml.load(text, Loader=_ParamsLoader)  # noqa: S506 - a SafeLoader subclass
        size = _expanded_size(raw, YAML_MAX_VALUES)
    except ParamsError as exc:
        raise ParamsError(f"{where}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"{where}: not valid YAML: {_SHORT.repr(str(exc))[1:-1]}") from None
    except RecursionError:
        raise ParamsError(f"{where}: nested too deeply to be a params file; expected a few levels of sections") from None
    if size > YAML_MAX_VALUES:
        raise ParamsError(f"{where}: expands to more than {YAML_MAX_VALUES} values (YAML anchors/aliases?); "
                          "a params file holds a few hundred")
    return raw


def load_params(path: str | os.PathLike[str] = PARAMS_FILE) -> Params:
    """Read and validate params.yaml. Raises :class:`ParamsError` naming the file and key."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: not found; compose it with `graphqa params compose` or `dvc exp run`")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    raw = read_params_yaml(text, str(path))
    try:
        return params_from_dict(raw or {})
    except ParamsError as exc:
        raise ParamsError(f"{path}: {exc}") from exc


# --------------------------------------------------------------------------- environment

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _env_bool(var: str, text: str) -> bool:
    if text.strip().lower() in _TRUE:
        return True
    if text.strip().lower() in _FALSE:
        return False
    raise ParamsError(f"{var}={text!r}: expected one of 1/0, true/false, yes/no, on/off")


def _env_int(var: str, text: str, minimum: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ParamsError(f"{var}={text!r}: expected an integer >= {minimum}") from None
    if value < minimum:
        raise ParamsError(f"{var}={text!r}: expected an integer >= {minimum}")
    return value


# Runtime knobs that never change results: variable -> (section, key, parser)
ENV_OVERRIDES: dict[str, tuple[str, str, typing.Callable[[str, str], Any]]] = {
    "GRAPHQA_NUM_WORKERS": ("runtime", "num_workers", lambda var, text: _env_int(var, text, 0)),
    "GRAPHQA_PIN_MEMORY": ("runtime", "pin_memory", _env_bool),
    "GRAPHQA_PREFETCH": ("runtime", "prefetch_factor", lambda var, text: _env_int(var, text, 1)),
    "GRAPHQA_PROGRESS_BAR": ("runtime", "progress_bar", _env_bool),
}


def apply_env_overrides(
    params: Params, environ: Mapping[str, str] | None = None
) -> tuple[Params, dict[str, Any]]:
    """Apply ``GRAPHQA_*`` runtime overrides; return the new params and what was applied.

    The applied mapping (``{"runtime.num_workers": 4}``) belongs in the run manifest.
    """
    environ = os.environ if environ is None else environ
    applied: dict[str, Any] = {}
    for var, (section, key, parse) in ENV_OVERRIDES.items():
        if var in environ:
            value = parse(var, environ[var])
            params = dataclasses.replace(
                params, **{section: dataclasses.replace(getattr(params, section), **{key: value})}
            )
            applied[f"{section}.{key}"] = value
    return params, applied

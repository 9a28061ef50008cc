"""Rank training runs by selection score; the sweep's winner.

Used by the ``select`` stage and by ``graphqa leaderboard``. A run is read from
its :class:`~graphqa.runs.run_dir.RunDir` (summary, manifest, DVCLive history),
never from a live process.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from graphqa.config import SEED_MAX
from graphqa.io import atomic_copy, csv_text, read_json_object, write_json, write_text
from graphqa.runs.run_dir import RunDir

# Key params shown next to each run: column -> dotted key in the resolved params. `precision` is then
# replaced by what the run used (its manifest), which differs after a hardware fallback.
KEY_PARAMS = {
    "arch": "model.arch",
    "lr": "optimizer.lr",
    "batch": "data.batch_size",
    "hidden": "model.hidden_dim",
    "layers": "model.num_layers",
    "heads": "model.heads",
    "precision": "trainer.precision",
    "seed": "seed",
}


@dataclass(frozen=True)
class RunRecord:
    """One finished (or partly finished) training run, as its run dir tells it."""

    name: str
    run_dir: Path
    score: float
    val_loss: float
    val_spearman: float
    best_epoch: int
    checkpoint: Path
    status: str
    key_params: dict[str, Any]

    @classmethod
    def from_run_dir(cls, run_dir: Path | RunDir) -> RunRecord:
        run = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
        summary = read_json_object(run.summary_file)
        params = run.read_manifest().get("params", {})
        best = summary.get("best")
        best = best if isinstance(best, dict) else {}
        epoch = _float(best.get("epoch"))
        return cls(
            name=run.name,
            run_dir=run.path,
            score=_float(best.get("score")),
            val_loss=_float(best.get("val_loss")),
            val_spearman=_float(best.get("val_spearman")),
            best_epoch=int(epoch) if math.isfinite(epoch) else -1,
            checkpoint=run.best_checkpoint,
            status=str(summary.get("status", "unknown"))
            + (" (constant predictions)" if summary.get("constant_predictions") else ""),
            key_params={**{col: dotted(params, key) for col, key in KEY_PARAMS.items()},
                        **used_hardware(run.read_manifest())},
        )


@dataclass(frozen=True)
class Winner:
    member: str
    variant: str
    seed: int
    score: float
    val_loss: float
    val_spearman: float
    checkpoint: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def used_hardware(manifest: dict[str, Any]) -> dict[str, Any]:
    """The leaderboard columns of what a run used: ``precision`` (after any fallback) and ``fallback``
    (``"trainer.precision bf16-mixed→32-true; …"``, empty when the machine had what was asked).

    Read from the manifest's ``hardware`` block (:mod:`graphqa.training.hardware`); a manifest without
    one gives its resolved precision, no manifest the requested one.
    """
    hardware = manifest.get("hardware")
    if not isinstance(hardware, dict):
        precision = manifest.get("precision")
        used = precision.get("resolved") if isinstance(precision, dict) else None
        return {**({"precision": used} if used else {}), "fallback": ""}
    requested, used = hardware.get("requested", {}), hardware.get("used", {})
    fallbacks = "; ".join(f"{key} {_plain(requested.get(key))}→{_plain(used.get(key))}"
                          for key in hardware.get("fallbacks", {}))
    return {"precision": used.get("trainer.precision"), "fallback": fallbacks}


def _plain(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def dotted(tree: Any, key: str) -> Any:
    """``tree["a"]["b"]`` for ``"a.b"``; None where a part is missing."""
    for part in key.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def rank_runs(records: Iterable[RunRecord]) -> list[RunRecord]:
    """Best (lowest selection score) first; runs without a score last."""
    return sorted(records, key=lambda r: (math.isnan(r.score), r.score, r.name))


def split_member(member: str) -> tuple[str, int]:
    """``"low_lr-222"`` → ``("low_lr", 222)`` (the train stage's naming).

    The seed is digits only, in [0, 2**32 - 1]: ``baseline--1`` is refused, not read as ``("baseline-", 1)``.
    """
    variant, _, seed = member.rpartition("-")
    if not variant or variant.endswith("-") or not (seed.isascii() and seed.isdigit()) or int(seed) > SEED_MAX:
        raise ValueError(f"sweep member {member!r}: expected <variant>-<seed> with a seed in [0, {SEED_MAX}]")
    return variant, int(seed)


def leaderboard_rows(records: Sequence[RunRecord]) -> list[dict[str, Any]]:
    rows = []
    for rank, record in enumerate(records, start=1):
        rows.append({
            "rank": rank,
            "run": record.name,
            "selection_score": record.score,
            "val_loss": record.val_loss,
            "val_spearman": record.val_spearman,
            "best_epoch": record.best_epoch,
            "status": record.status,
            **record.key_params,
        })
    return rows


def to_markdown(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "_no runs_\n"
    header = list(rows[0])
    fmt = lambda v: f"{v:.4f}" if isinstance(v, float) else ("" if v is None else str(v))  # noqa: E731
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(row[h]) for h in header) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def read_curves(record_dir: Path) -> list[dict[str, Any]]:
    """Validation curves of one run from its DVCLive history (one row per validation)."""
    run = RunDir(record_dir)
    columns = {"val_loss": run.val_history("loss"), "val_spearman": run.val_history("spearman")}
    series: dict[str, list[str]] = {}
    for column, path in columns.items():
        if path.is_file():
            with path.open() as handle:
                series[column] = [row[path.stem] for row in csv.DictReader(handle, delimiter="\t")]
    length = max((len(v) for v in series.values()), default=0)
    return [
        {"member": run.name, "epoch": i + 1,
         **{c: (float(v[i]) if i < len(v) else None) for c, v in series.items()}}
        for i in range(length)
    ]


def select_winner(run_dirs: Sequence[Path], out_dir: Path) -> Winner:
    """Rank the sweep members, write the leaderboard, curves and winner, copy its checkpoint."""
    missing = [str(d) for d in run_dirs if not RunDir(d).summary_file.is_file()]
    if missing:
        raise FileNotFoundError(f"sweep members without a summary (the run did not finish): {', '.join(missing)}")
    ranked = rank_runs(RunRecord.from_run_dir(Path(d)) for d in run_dirs)
    best = ranked[0]
    if math.isnan(best.score) or not best.checkpoint.is_file():
        raise ValueError(f"{best.run_dir}: no member has a scored best.ckpt; the sweep did not train")
    variant, seed = split_member(best.name)
    winner = Winner(best.name, variant, seed, best.score, best.val_loss, best.val_spearman,
                    str(best.checkpoint))
    rows = leaderboard_rows(ranked)
    write_text(out_dir / "leaderboard.csv", csv_text(rows))
    write_text(out_dir / "leaderboard.md", "# Sweep leaderboard (lower selection score is better)\n\n"
               + to_markdown(rows))
    curves = [row for d in run_dirs for row in read_curves(Path(d))]
    write_text(out_dir / "curves.csv", csv_text(curves) or "member,epoch,val_loss,val_spearman\n")
    atomic_copy(best.checkpoint, out_dir / "winner.ckpt")
    write_json(out_dir / "winner.json", winner.to_dict())
    return winner


def read_winner(path: Path) -> Winner:
    data = read_json_object(path)
    try:
        return Winner(**data)
    except TypeError as exc:
        raise ValueError(f"{path}: not a winner file ({exc})") from None

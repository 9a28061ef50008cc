"""Reading a predictions file (and its labels) into a :class:`PredictionTable`.

Reads what graphqa writes (``eval/predictions.csv``, ``graphqa predict``) and
the layouts TopoQA-style inference scripts write: ``TARGET, MODEL, PRED_DOCKQ,
TRUE_DOCKQ`` with spaces after the commas, lower-case headers
(``target, model, pred_dockq, true_dockq``), a per-target ``MODEL,PRED_DOCKQ``
result file joined with a labels file (``MODEL, dockq[, target]``). Headers are
matched case- and space-insensitively through a few aliases.

A model's target comes from the ``TARGET`` column, else the labels' ``target``
column, else the model name before its first ``_`` (docs/ARCHITECTURE.md, "Data contract").
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graphqa.data.layout import target_from_model_name

log = logging.getLogger(__name__)

# Canonical column -> accepted header spellings (already normalised: lower case, "_" for spaces/dashes).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "TARGET": ("target", "target_id", "target_name", "complex"),
    "MODEL": ("model", "model_name", "model_id", "decoy", "name"),
    "PRED_DOCKQ": ("pred_dockq", "predicted_dockq", "pred", "prediction", "pred_dockq_wave", "score"),
    "TRUE_DOCKQ": ("true_dockq", "dockq", "label", "true", "dockq_wave"),
}


class ScoringError(ValueError):
    """A predictions or labels file cannot be scored; the message names the file."""


def float32_value(value: float) -> float:
    """A float32 (a label or a prediction) as the shortest decimal that reads back as the same float32.

    Labels and predictions are float32 in the packed store and the model;
    widened to float64 as they are, ``0.553`` would be written
    ``0.5529999732971191``. Every predictions file graphqa writes goes through
    this, so a label is written as it was read (docs/ARCHITECTURE.md,
    "Metrics"). ``nan`` stays ``nan``.
    """
    return float(str(np.float32(value)))


def normalise_header(name: str) -> str:
    """``' Pred DockQ '`` → ``'pred_dockq'`` (BOM, case, spaces and dashes ignored)."""
    return "_".join(name.replace("\ufeff", "").strip().lower().replace("-", " ").split())


def _read_csv(path: Path, columns: dict[str, tuple[str, ...]], required: Sequence[str],
              kind: str) -> tuple[dict[str, list[str]], list[int]]:
    """Columns of ``path`` by canonical name (values stripped) and each row's line number."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {kind} file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ScoringError(f"{path}: line {line}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); "
                           f"save the file as UTF-8") from None
    with io.StringIO(text, newline="") as handle:
        reader = csv.reader(handle, skipinitialspace=True)
        header = next(reader, None)
        if not header:
            raise ScoringError(f"{path}: empty {kind} file (expected a header with {', '.join(required)})")
        normalised = [normalise_header(h) for h in header]
        found: dict[str, int] = {}
        for canonical, aliases in columns.items():
            # Alias order is preference order: `pred_dockq` beats a generic `score`.
            for alias in aliases:
                if alias in normalised:
                    if normalised.count(alias) > 1:
                        raise ScoringError(f"{path}: column {alias!r} appears {normalised.count(alias)} times in "
                                           f"the header; which one holds {canonical} is ambiguous: keep one")
                    found[canonical] = normalised.index(alias)
                    break
        missing = [c for c in required if c not in found]
        if missing:
            raise ScoringError(
                f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(h.strip() for h in header)} "
                f"(accepted spellings: " + "; ".join(f"{c}: {'/'.join(columns[c])}" for c in missing) + ")"
            )
        data: dict[str, list[str]] = {c: [] for c in found}
        lines: list[int] = []
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) < len(header):
                raise ScoringError(f"{path}: line {reader.line_num}: {len(row)} fields, header has {len(header)}")
            for canonical, index in found.items():
                data[canonical].append(row[index].strip())
            lines.append(reader.line_num)
    return data, lines


def _floats(values: Sequence[str], lines: Sequence[int], path: Path, column: str, allow_empty: bool,
            valid_range: tuple[float, float] | None = None) -> np.ndarray:
    out = np.empty(len(values), dtype=np.float64)
    for i, (text, line) in enumerate(zip(values, lines, strict=True)):
        if allow_empty and text.lower() in ("", "nan", "na", "none"):
            out[i] = math.nan
            continue
        try:
            out[i] = float(text)
        except ValueError:
            raise ScoringError(f"{path}: line {line}: {column} {text!r} is not a number") from None
        if not math.isfinite(out[i]):
            raise ScoringError(f"{path}: line {line}: {column} is {text!r}; expected a finite number")
        if valid_range is not None and not valid_range[0] <= out[i] <= valid_range[1]:
            raise ScoringError(f"{path}: line {line}: {column} is {text}; expected a DockQ in "
                               f"[{valid_range[0]:g}, {valid_range[1]:g}] (a 0-100 scale? divide by 100)")
    return out


@dataclass
class PredictionTable:
    """Predictions (and labels where known) of a set of models, one row per model."""

    targets: list[str]
    models: list[str]
    pred: np.ndarray
    true: np.ndarray  # nan where a model has no label
    source: Path

    @property
    def target_names(self) -> list[str]:
        """Targets in order of first appearance."""
        return list(dict.fromkeys(self.targets))

    @property
    def target_index(self) -> np.ndarray:
        index = {name: i for i, name in enumerate(self.target_names)}
        return np.asarray([index[t] for t in self.targets], dtype=np.int64)

    @property
    def labelled(self) -> np.ndarray:
        return ~np.isnan(self.true)


def read_labels(path: Path | str) -> dict[tuple[str | None, str], float]:
    """A labels CSV (``MODEL, dockq[, capri, target]``) as ``{(target or None, model): dockq}``.

    Read by the data layer's label reader, so ``graphqa score --labels`` accepts
    exactly the files the pipeline trains on.
    """
    from graphqa.data.labels import read_labels as read_label_table

    return {(row.target, row.model): row.dockq for row in read_label_table(path).rows}


def _join_labels(targets: list[str | None], models: list[str], labels: dict[tuple[str | None, str], float],
                 labels_path: Path) -> tuple[list[str | None], np.ndarray]:
    """Look up each model's label: by (target, model) when both sides know the target, else by model."""
    by_model: dict[str, list[tuple[str | None, float]]] = {}
    for (target, model), value in labels.items():
        by_model.setdefault(model, []).append((target, value))
    out_targets, true = list(targets), np.full(len(models), math.nan)
    for i, (target, model) in enumerate(zip(targets, models, strict=True)):
        candidates = by_model.get(model, [])
        if target is not None and (target, model) in labels:
            true[i] = labels[(target, model)]
        elif len(candidates) == 1 and (target is None or candidates[0][0] is None):
            label_target, true[i] = candidates[0]
            if out_targets[i] is None:
                out_targets[i] = label_target
        elif len(candidates) > 1 and target is None:
            raise ScoringError(f"{labels_path}: model {model!r} is labelled under several targets "
                               f"({', '.join(str(t) for t, _ in candidates)}); add a TARGET column to the predictions")
    return out_targets, true


def read_predictions(path: Path | str, labels: Path | str | None = None) -> PredictionTable:
    """Read a predictions CSV leniently; join a labels CSV when given (it wins over TRUE_DOCKQ).

    Raises :class:`ScoringError` naming the file and the missing columns, a
    line whose value is not a number, or a model listed twice.
    """
    path = Path(path)
    data, lines = _read_csv(path, COLUMN_ALIASES, ("MODEL", "PRED_DOCKQ"), "predictions")
    if not lines:
        raise ScoringError(f"{path}: no prediction rows")
    models = data["MODEL"]
    pred = _floats(data["PRED_DOCKQ"], lines, path, "PRED_DOCKQ", allow_empty=False)
    targets: list[str | None] = [t or None for t in data["TARGET"]] if "TARGET" in data else [None] * len(models)
    if labels is not None:
        if "TRUE_DOCKQ" in data:
            log.info("%s: TRUE_DOCKQ column ignored; labels come from %s", path, labels)
        targets, true = _join_labels(targets, models, read_labels(labels), Path(labels))
    elif "TRUE_DOCKQ" in data:
        true = _floats(data["TRUE_DOCKQ"], lines, path, "TRUE_DOCKQ", allow_empty=True, valid_range=(0.0, 1.0))
    else:
        raise ScoringError(f"{path}: no TRUE_DOCKQ column (accepted spellings: "
                           f"{'/'.join(COLUMN_ALIASES['TRUE_DOCKQ'])}); pass --labels with MODEL,dockq")
    resolved = [t if t is not None else target_from_model_name(m) for t, m in zip(targets, models, strict=True)]
    if len(models) > 1 and all(t is None for t in targets) and len(set(resolved)) == len(models):
        raise ScoringError(
            f"{path}: no targets: without a TARGET column a model's target is its name before the first '_', and "
            f"here each of the {len(models)} models would be a target of its own (ranking loss 0 by construction); "
            f"add a TARGET column, or pass --labels with a target column")
    seen: dict[tuple[str, str], int] = {}
    for target, model, line in zip(resolved, models, lines, strict=True):
        if (target, model) in seen:
            raise ScoringError(f"{path}: line {line}: model {model!r} of target {target} already on line "
                               f"{seen[(target, model)]}")
        seen[(target, model)] = line
    return PredictionTable(resolved, list(models), pred, true, path)



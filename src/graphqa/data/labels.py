"""Label files: ``labels/{train,val,test}.csv`` with columns MODEL, dockq (optional capri, target).

Column names are matched case-insensitively (``DockQ`` works). A ``MODEL``
written as ``TARGET/MODEL`` sets the target too. Every problem is a
:class:`DataError` naming the file, the line and what was expected.
"""

from __future__ import annotations

import csv
import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from graphqa.data.errors import DataError

SPLITS: tuple[str, ...] = ("train", "val", "test")
CAPRI_CLASSES: tuple[str, ...] = ("Incorrect", "Acceptable", "Medium", "High")


def _bad(message: str) -> DataError:
    return DataError(message, kind="labels")


@dataclass(frozen=True)
class LabelRow:
    """One labelled model."""

    model: str
    dockq: float
    target: str | None  # from the 'target' column or a TARGET/MODEL name; None: infer later
    capri: str | None
    line: int  # 1-based line in the CSV (header is line 1)


@dataclass(frozen=True)
class LabelTable:
    """The labels of one split."""

    split: str
    path: Path
    rows: list[LabelRow]

    def __len__(self) -> int:
        return len(self.rows)


def _column(header: list[str], name: str, path: Path, required: bool) -> int | None:
    lowered = [h.strip().lower() for h in header]
    if lowered.count(name.lower()) > 1:
        columns = [i + 1 for i, h in enumerate(lowered) if h == name.lower()]
        raise _bad(f"{path}: the '{name}' column appears {len(columns)} times (columns {', '.join(map(str, columns))}); "
                   "expected each column once")
    if name.lower() in lowered:
        return lowered.index(name.lower())
    if required:
        raise _bad(
            f"{path}: no '{name}' column (columns: {', '.join(h.strip() for h in header) or 'none'}); "
            "expected columns MODEL, dockq and optionally capri, target"
        )
    return None


def read_labels(path: str | Path, split: str | None = None) -> LabelTable:
    """Read and validate one label CSV.

    Example: ``read_labels("data/labels/train.csv", "train").rows[0].dockq``
    """
    path = Path(path)
    split = split or path.stem
    if not path.is_file():
        raise _bad(f"{path}: label file not found; expected a CSV with columns MODEL, dockq")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _bad(f"{path}: cannot read as CSV ({exc})") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise _bad(f"{path}: empty; expected a header MODEL,dockq and one row per model")
    header, body = rows[0], rows[1:]
    i_model = _column(header, "MODEL", path, required=True)
    i_dockq = _column(header, "dockq", path, required=True)
    i_capri = _column(header, "capri", path, required=False)
    i_target = _column(header, "target", path, required=False)
    if not body:
        raise _bad(f"{path}: has a header but no rows; expected one row per labelled model")

    out: list[LabelRow] = []
    seen: dict[tuple[str | None, str], int] = {}
    for offset, row in enumerate(body):
        line = offset + 2

        def cell(i: int | None, row: list[str] = row) -> str:
            # NFC: a name typed on one system matches the same name saved as a file on another (macOS writes NFD)
            return unicodedata.normalize("NFC", row[i].strip()) if i is not None and i < len(row) else ""

        model, text = cell(i_model), cell(i_dockq)
        target = cell(i_target) or None
        if not model:
            raise _bad(f"{path}:{line}: empty MODEL; expected a model name")
        if "/" in model:
            folder, model = model.rsplit("/", 1)
            target = target or folder.rsplit("/", 1)[-1]
        try:
            dockq = float(text)
        except ValueError:
            raise _bad(f"{path}:{line}: dockq {text!r} for {model!r} is not a number; expected a value in [0, 1]") from None
        if math.isnan(dockq):
            raise _bad(f"{path}:{line}: dockq is NaN for {model!r}; expected a value in [0, 1]")
        if not 0.0 <= dockq <= 1.0:
            raise _bad(f"{path}:{line}: dockq {dockq} for {model!r} is outside [0, 1]")
        key = (target, model)
        if key in seen:
            raise _bad(
                f"{path}:{line}: duplicate MODEL {model!r}" + (f" (target {target})" if target else "")
                + f", first on line {seen[key]}; expected one row per model"
            )
        seen[key] = line
        out.append(LabelRow(model=model, dockq=dockq, target=target, capri=cell(i_capri) or None, line=line))
    return LabelTable(split=split, path=path, rows=out)


def read_label_splits(labels_dir: str | Path, splits: tuple[str, ...] = SPLITS) -> dict[str, LabelTable]:
    """Read ``<labels_dir>/<split>.csv`` for every split (each must exist)."""
    labels_dir = Path(labels_dir)
    if not labels_dir.is_dir():
        raise _bad(f"{labels_dir}: label directory not found; expected {', '.join(s + '.csv' for s in splits)}")
    return {split: read_labels(labels_dir / f"{split}.csv", split) for split in splits}


def capri_class(dockq: float) -> str:
    """CAPRI class from DockQ with the usual thresholds 0.23 / 0.49 / 0.80."""
    if dockq >= 0.80:
        return "High"
    if dockq >= 0.49:
        return "Medium"
    if dockq >= 0.23:
        return "Acceptable"
    return "Incorrect"

"""Where graphqa relies on DVCLive's private API: here and nowhere else.

Each use names the upstream symbol; ``tests/compat/test_upstream.py`` fails
loudly, naming it, when an upgrade removes what these rely on.

* ``dvclive.lightning._should_sync``: re-implemented (:func:`called_from_sync_point`)
  without ``inspect.stack()``, which reads the source of every frame at every step.
* ``Live._studio_events_to_skip``: skip the Studio payload when Studio is off.
* ``DVCLiveLogger._experiment`` / ``._kwargs``: build our ``Live`` subclass.
* DVCLive's history files (``plots/metrics/**.tsv``, a ``step`` column):
  rewritten on resume (:func:`rewrite_history`).
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from graphqa.io import write_text

# Lightning's logger-connector methods after which DVCLive writes its files (dvclive.lightning._should_sync).
SYNC_CALLERS = frozenset({"update_train_step_metrics", "update_train_epoch_metrics", "log_eval_end_metrics"})


def called_from_sync_point() -> bool:
    """``dvclive.lightning._should_sync`` without ``inspect.stack()``, which reads the source of every frame."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name in SYNC_CALLERS:
            return True
        frame = frame.f_back
    return False


def dvclive_logger_class() -> type:
    """DVCLive's Lightning logger with graphqa's two fixes (below); built on first use (imports DVCLive)."""
    from dvclive import Live
    from dvclive.lightning import DVCLiveLogger
    from lightning.fabric.loggers.logger import rank_zero_experiment

    class StudioAwareLive(Live):
        """DVCLive's ``Live``, minus the Studio payload when Studio is off.

        On every sync upstream re-reads params.yaml and every metrics .tsv to
        queue them for Studio, and without a Studio config the queue drops
        them: a cost that grows with the length of the run.
        """

        def post_data_to_studio(self) -> None:
            if "data" in getattr(self, "_studio_events_to_skip", ()):
                return
            super().post_data_to_studio()

    class StepExactDVCLiveLogger(DVCLiveLogger):
        """DVCLive's Lightning logger, but step 0 is logged as step 0.

        Upstream treats ``step=0`` as "no step" and increments its own counter,
        which would shift the first point and duplicate the next one.
        """

        @property
        @rank_zero_experiment
        def experiment(self) -> Live:
            if self._experiment is None:
                self._experiment = StudioAwareLive(**self._kwargs)
            return self._experiment

        def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None, sync: bool | None = False) -> None:
            from lightning.pytorch.utilities import rank_zero_only

            if rank_zero_only.rank != 0:
                return
            if step is not None:
                # the parent increments the step when given none: land exactly on `step`
                self.experiment.step = int(step) - 1
            super().log_metrics(metrics, None, sync or called_from_sync_point())

    return StepExactDVCLiveLogger



def rewrite_history(history_dir: Path, keep: Callable[[list[dict[str, str]]], list[dict[str, str]]]) -> int:
    """Apply ``keep`` to the rows of every DVCLive TSV history under ``history_dir``; returns rows removed."""
    removed = 0
    for tsv in sorted(Path(history_dir).rglob("*.tsv")):
        rows = list(csv.DictReader(io.StringIO(tsv.read_text(encoding="utf-8")), delimiter="\t"))
        if not rows:
            continue
        kept = keep(rows)
        if len(kept) == len(rows):
            continue
        removed += len(rows) - len(kept)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
        write_text(tsv, out.getvalue())
    return removed


def _step(row: Mapping[str, str]) -> int:
    return int(float(row["step"]))


def trim_history(history_dir: Path, max_step: int) -> int:
    """Drop rows logged after ``max_step`` (a killed run's tail, replayed on resume); returns rows removed."""
    return rewrite_history(history_dir, lambda rows: [r for r in rows if _step(r) <= max_step])


def dedupe_history(history_dir: Path) -> int:
    """Keep one row per step in each series (the last written); returns rows removed."""
    def last_per_step(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        by_step = {_step(r): r for r in rows}
        return [by_step[s] for s in sorted(by_step)]

    return rewrite_history(history_dir, last_per_step)

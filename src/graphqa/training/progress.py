"""The training progress bar: the train loss and the validation selection score, log lines above it.

Lightning's default rich bar shows only ``v_num`` (the DVCLive step offset,
meaningless here), and log lines written to stderr while it redraws land in
the middle of it. This bar shows what a person watches (the latest training
loss and the latest validation selection score, lower is better), and while it
is live, every root log handler writing to a terminal stream prints through the
bar's rich console instead, so each log line appears whole, above the bar.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from lightning.pytorch.callbacks import RichProgressBar

# bar label -> metric the module logs (training.module)
SHOWN_METRICS = {"loss": "train/loss_step", "val score": "val/selection"}


class ConsoleLogHandler(logging.Handler):
    """Log records printed through a rich console (above a live progress bar), formatted as before."""

    def __init__(self, console: Any, like: logging.Handler) -> None:
        super().__init__(like.level)
        self.console = console
        self.setFormatter(like.formatter)
        for record_filter in like.filters:
            self.addFilter(record_filter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.console.print(self.format(record), markup=False, highlight=False, emoji=False, soft_wrap=True)
        except Exception:  # a broken console must not end training
            self.handleError(record)


class TrainingProgressBar(RichProgressBar):
    """Lightning's rich bar with the loss and validation score instead of ``v_num``."""

    def __init__(self) -> None:
        super().__init__()
        self._replaced: list[tuple[logging.Handler, logging.Handler]] = []

    def get_metrics(self, trainer: Any, pl_module: Any) -> dict[str, Any]:
        metrics = trainer.callback_metrics
        return {label: f"{float(metrics[key]):.4f}" for label, key in SHOWN_METRICS.items() if key in metrics}

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        if self.is_enabled and not self._replaced:
            self._route_logs()

    def teardown(self, trainer: Any, pl_module: Any, stage: str) -> None:
        super().teardown(trainer, pl_module, stage)
        self._restore_logs()

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        super().on_exception(trainer, pl_module, exception)
        self._restore_logs()

    def _route_logs(self) -> None:
        from rich import get_console

        console = get_console()  # the console RichProgressBar draws on (rich's global one)
        root = logging.getLogger()
        for handler in list(root.handlers):
            stream = getattr(handler, "stream", None)
            if type(handler) is logging.StreamHandler and stream in (sys.stderr, sys.stdout) and stream.isatty():
                replacement = ConsoleLogHandler(console, handler)
                root.removeHandler(handler)
                root.addHandler(replacement)
                self._replaced.append((handler, replacement))

    def _restore_logs(self) -> None:
        root = logging.getLogger()
        for original, replacement in self._replaced:
            root.removeHandler(replacement)
            root.addHandler(original)
        self._replaced = []

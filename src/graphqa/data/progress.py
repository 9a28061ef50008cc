"""Progress reporting: library loops call a hook; the CLI and stages draw a rich bar."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ProgressHook = Callable[[int, int], None]
"""Called as ``hook(completed, total)`` after each item of a long loop."""


@contextmanager
def progress_bar(description: str, enabled: bool = True) -> Iterator[ProgressHook]:
    """A rich progress bar on stderr, driven by a :data:`ProgressHook`; silent when disabled or not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda completed, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=False,
    ) as bar:
        task = bar.add_task(description, total=None)

        def hook(completed: int, total: int) -> None:
            bar.update(task, completed=completed, total=total)

        yield hook

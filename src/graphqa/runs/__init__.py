"""Training-run directories and what is read from them.

``run_dir``: :class:`RunDir`, the one definition of the layout; ``leaderboard``:
ranking runs by selection score, the sweep's winner; ``inspect``: a run's
summary and a live snapshot (``graphqa summarise``/``monitor``).
"""

from graphqa.runs.run_dir import RunDir, find_run_dirs

__all__ = ["RunDir", "find_run_dirs"]

"""One study driver per project at a time, and none while a stopped driver's ``dvc exp run --queue`` still runs.

``dvc exp run --queue -S …`` writes the trial's params.yaml into the workspace, stashes it and restores the
committed one. A driver killed meanwhile leaves that ``dvc`` running; a new driver reading params.yaml then would
read the trial's params (its ``hpo:`` section back at the defaults) and start the wrong study. So the driver holds
an ``flock`` on ``.graphqa/hpo/driver.lock`` from before it reads params.yaml to its end, and hands the descriptor
to every ``dvc exp run --queue`` it starts: a child that outlives its driver keeps the project locked until it
ends (docs/ARCHITECTURE.md, "Hyper-parameter search").
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from graphqa.hpo.errors import HpoError

LOCK_PATH = Path(".graphqa") / "hpo" / "driver.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, only whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    return True


def _holder(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


@contextmanager
def driver_lock(root: Path, *, wait_s: float = 300.0, say: Callable[[str], None] = lambda message: None,
                poll_s: float = 0.5) -> Iterator[int]:
    """Hold the project's study-driver lock; yields the descriptor to pass to ``dvc exp run --queue`` children.

    Refused at once (HpoError) while another driver runs; waits up to ``wait_s`` for the children of a stopped one.
    """
    import fcntl

    path = root / LOCK_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline, told = time.monotonic() + wait_s, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                pid = _holder(fd)
                if pid is not None and pid != os.getpid() and _alive(pid):
                    raise HpoError(f"another `graphqa hpo run` (pid {pid}) is running in this project ({LOCK_PATH} "
                                   "is locked); wait for it, or stop it and run again to resume") from None
                if time.monotonic() > deadline:
                    raise HpoError(f"{LOCK_PATH} is still held {wait_s:.0f} s after its driver stopped (by a `dvc` it "
                                   "started); wait for that process to end, then run again") from None
                if not told:
                    say("waiting for the `dvc exp run --queue` a stopped driver started to finish …")
                    told = True
                time.sleep(poll_s)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield fd
    finally:
        os.close(fd)

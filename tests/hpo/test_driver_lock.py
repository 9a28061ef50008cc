"""The study driver's lock with real processes: a second driver is refused while the first runs, and a driver
started after one was killed waits for the `dvc exp run --queue` it left running (stood in for by a child that
inherits the lock as that command does, then writes a file as it ends)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from graphqa.hpo.driver_lock import LOCK_PATH, driver_lock
from graphqa.hpo.errors import HpoError

# A driver: takes the lock, starts a child holding the inherited descriptor (sleeps, then writes `done`),
# says "locked", and then either stays alive or exits at once (a killed driver whose child runs on).
DRIVER = """
import subprocess, sys, time
from pathlib import Path
from graphqa.hpo.driver_lock import driver_lock
root, child_s, stay = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "stay"
with driver_lock(root) as fd:
    code = f"import time, pathlib; time.sleep({child_s}); pathlib.Path({str(root / 'done')!r}).write_text('x')"
    subprocess.Popen([sys.executable, "-c", code], pass_fds=(fd,), start_new_session=True)
    print("locked", flush=True)
    if stay:
        time.sleep(60)
"""


def _start_driver(root: Path, child_s: float, stay: bool) -> subprocess.Popen[str]:
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(root), str(child_s), "stay" if stay else "exit"],
                              stdout=subprocess.PIPE, text=True)
    assert driver.stdout is not None and driver.stdout.readline().strip() == "locked"
    return driver


def test_a_second_driver_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    driver = _start_driver(tmp_path, child_s=0, stay=True)
    try:
        with pytest.raises(HpoError, match=rf"another `graphqa hpo run` \(pid {driver.pid}\) is running"), \
                driver_lock(tmp_path, wait_s=30):
            pass
    finally:
        driver.kill()
        driver.wait()


def test_after_a_killed_driver_the_next_waits_for_the_dvc_it_left_running(tmp_path: Path) -> None:
    driver = _start_driver(tmp_path, child_s=3, stay=False)
    driver.wait()
    said: list[str] = []
    with driver_lock(tmp_path, wait_s=60, say=said.append, poll_s=0.1):
        assert (tmp_path / "done").is_file(), "the lock was taken before the stopped driver's child ended"
    assert len(said) == 1 and "waiting" in said[0]
    assert (tmp_path / LOCK_PATH).is_file()


def test_a_child_that_never_ends_is_reported_not_waited_for_forever(tmp_path: Path) -> None:
    driver = _start_driver(tmp_path, child_s=120, stay=False)
    driver.wait()
    started = time.monotonic()
    with pytest.raises(HpoError, match="still held 1 s after its driver stopped"), \
            driver_lock(tmp_path, wait_s=1, poll_s=0.1):
        pass
    assert time.monotonic() - started < 60, "it waited for the child (120 s) instead of giving up after 1 s"


def test_the_lock_is_free_again_after_a_driver_ends(tmp_path: Path) -> None:
    with driver_lock(tmp_path):
        pass
    with driver_lock(tmp_path, wait_s=0):
        pass

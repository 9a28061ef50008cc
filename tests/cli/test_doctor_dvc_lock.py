"""``graphqa doctor`` spots DVC's repository lock left empty by a killed dvc process, and says how to recover.

The state is made for real: a DVC repo whose pipeline ran, then ``.dvc/tmp/rwlock`` truncated the way a kill
between DVC's truncate and write leaves it. The test first shows that every ``dvc`` command then fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_doctor_detects_an_empty_dvc_lock_and_the_advice_recovers(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    assert run(tmp_path, "dvc", "init", "-q").returncode == 0
    (tmp_path / "dvc.yaml").write_text("stages:\n  a:\n    cmd: echo hi > out.txt\n    outs: [out.txt]\n")
    assert run(tmp_path, "dvc", "repro", "-q").returncode == 0
    rwlock = tmp_path / ".dvc" / "tmp" / "rwlock"
    assert rwlock.is_file()
    assert run(tmp_path, "graphqa", "doctor").returncode == 0  # a healthy repo: no problem reported

    rwlock.write_bytes(b"")  # what a kill between DVC's truncate and write leaves
    status = run(tmp_path, "dvc", "status")
    assert status.returncode != 0 and "Unable to read RWLock-file '.dvc/tmp/rwlock'" in status.stderr

    doctor = run(tmp_path, "graphqa", "doctor")
    text = " ".join(doctor.stdout.split())
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    assert "Traceback" not in doctor.stderr
    assert f"problem: {rwlock}: DVC's repository lock is empty" in text
    assert f"rm {rwlock}" in text
    json_report = run(tmp_path, "graphqa", "doctor", "--json")
    assert json_report.returncode == 1 and str(rwlock) in json_report.stdout

    rwlock.unlink()  # the advice
    assert run(tmp_path, "dvc", "status").returncode == 0
    assert run(tmp_path, "graphqa", "doctor").returncode == 0

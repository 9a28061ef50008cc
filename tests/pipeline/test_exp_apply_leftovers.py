"""What `dvc exp apply` leaves of a member the applied experiment did not train changes no stage.

DVC's checkout removes the outputs it linked for stages that are not in the applied dvc.lock, but
not the files a run writes besides its outputs (DVCLive's latest values and params, the run
context, the diagnose profile's report). Those sit in runs/sweep, a directory select and evaluate
depend on, so .dvcignore keeps them out of its hash (docs/ARCHITECTURE.md, "Run directories").
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.pipeline.conftest import Project

pytestmark = pytest.mark.slow


def test_a_removed_members_leftovers_leave_the_pipeline_up_to_date(ci_project: Project) -> None:
    sweep = ci_project.root / "runs" / "sweep"
    trained = sweep / "baseline-222"
    leftover = sweep / "low_lr-222"  # as `dvc exp apply` leaves a member of another experiment
    try:
        (leftover / "dvclive").mkdir(parents=True)
        for name in ("run_context.json", "dvclive/metrics.json", "dvclive/params.yaml"):
            shutil.copy2(trained / name, leftover / name)
        (leftover / "diagnostics.json").write_text(json.dumps({"grad_norms": []}))
        status = ci_project.dvc("status", "--json").stdout.strip()
        assert status in ("{}", ""), status
        # the check can fail: a file DVC does not ignore in the same place makes select stale
        (leftover / "notes.txt").write_text("not a run file\n")
        assert "select" in json.loads(ci_project.dvc("status", "--json").stdout)
    finally:
        shutil.rmtree(leftover, ignore_errors=True)

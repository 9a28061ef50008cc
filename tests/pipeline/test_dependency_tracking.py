"""DVC reruns exactly what changed, restores what ran before, and never calls stale work up to date.

Real `dvc` CLI on a throw-away copy of this project (ci_fast). docs/RELIABILITY.md names these tests.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest
import yaml
from tools.stage_deps import ROOT, closure

from tests.pipeline.conftest import Project, copy_project

pytestmark = pytest.mark.slow

OUTPUT_ROOTS = ("artifacts", "runs", "eval")


@pytest.fixture(scope="module")
def project(ci_reproduced: Project, tmp_path_factory: pytest.TempPathFactory) -> Project:
    return copy_project(ci_reproduced, tmp_path_factory.mktemp("deps") / "repo")


def _stale(project: Project) -> set[str]:
    return set(json.loads(project.dvc("status", "--json").stdout or "{}"))


def _outputs(project: Project) -> dict[str, str]:
    """sha256 of every file under the pipeline's output folders."""
    return {str(p.relative_to(project.root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for top in OUTPUT_ROOTS for p in sorted((project.root / top).rglob("*")) if p.is_file()}


def _stages_running(module: str) -> set[str]:
    """Stages (of dvc.yaml, ci_fast's members) whose script's closure includes ``module``."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    names = {"train": ["train@baseline-222"], "finetune_phase2": ["finetune_phase2@101"]}
    running = set()
    for name, stage in stages.items():
        cmd = stage.get("do", stage)["cmd"]
        script = next(part for part in cmd.split() if part.startswith("stages/"))
        if ROOT / module in closure(ROOT / script):
            running.update(names.get(name, [name]))
    return running


def _edit(path: Path) -> str:
    original = path.read_text()
    path.write_text(original + "\n# edited\n")
    return original


def test_code_edits_invalidate_exactly_the_stages_that_run_the_code(project: Project) -> None:
    predictor = project.root / "src/graphqa/inference/predictor.py"
    original = _edit(predictor)
    try:
        stale = _stale(project)
    finally:
        predictor.write_text(original)
    assert stale == {"evaluate", "score_model"} == _stages_running("src/graphqa/inference/predictor.py"), stale

    generator = project.root / "src/graphqa/demo/generate.py"
    original = _edit(generator)
    try:
        assert _stale(project) == set(), "the demo generator is no stage's code"
    finally:
        generator.write_text(original)


def test_runtime_knobs_invalidate_nothing(project: Project) -> None:
    project.graphqa("params", "compose", "--profile", "ci_fast", "runtime.num_workers=2", "runtime.eval_batch_size=7",
                    "runtime.progress_bar=false")
    try:
        assert _stale(project) == set()
    finally:
        project.graphqa("params", "compose", "--profile", "ci_fast")


def test_a_configuration_that_ran_before_is_restored_from_the_run_cache(project: Project) -> None:
    project.graphqa("params", "compose", "--profile", "ci_fast", "optimizer.lr=0.002")
    trained = project.dvc("repro")
    assert "Running stage 'train@baseline-222'" in trained.stdout

    project.graphqa("params", "compose", "--profile", "ci_fast")  # back to the configuration of the fixture
    restored = project.dvc("repro")
    assert "Running stage" not in restored.stdout, restored.stdout
    for stage in ("train@baseline-222", "select", "finetune_phase1", "finetune_phase2@101", "evaluate"):
        assert f"Stage '{stage}' is cached - skipping run, checking out outputs" in restored.stdout, stage
    assert _stale(project) == set()


def test_identical_runs_write_identical_outputs(project: Project) -> None:
    def out_hashes() -> dict[str, str]:
        lock = yaml.safe_load((project.root / "dvc.lock").read_text())["stages"]
        return {f"{stage}:{out['path']}": out.get("md5", "") for stage, entry in lock.items()
                for out in entry.get("outs", [])}

    before = out_hashes()
    project.dvc("repro", "--force", "--no-run-cache", "train@baseline-222", "--single-item")
    assert out_hashes() == before


@pytest.mark.parametrize(("override", "message"), [
    ("optimizer.lr=abc", "optimizer.lr: expected a number"),
    ("+optimiser.lr=0.01", "optimiser: unknown key"),
])
def test_bad_params_fail_before_any_output_is_removed(project: Project, override: str, message: str) -> None:
    before = _outputs(project)
    result = project.dvc("exp", "run", "-S", override, check=False)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert _outputs(project) == before


def test_params_yaml_edited_by_hand_fails_in_the_first_stage(project: Project) -> None:
    params_file = project.root / "params.yaml"
    original = params_file.read_text()
    params_file.write_text(original.replace("  lr: 0.005\n", "  lr: abc\n", 1))
    try:
        before = {k: v for k, v in _outputs(project).items() if k != "artifacts/params_check.json"}
        result = project.dvc("repro", check=False)
        assert result.returncode != 0
        assert "failed to reproduce 'check_params'" in result.stdout + result.stderr
        assert "optimizer.lr: expected a number" in result.stdout + result.stderr
        after = {k: v for k, v in _outputs(project).items() if k != "artifacts/params_check.json"}
        assert after == before, "only the check stage's own output went"
    finally:
        params_file.write_text(original)
        project.dvc("repro", "check_params")


def test_predict_only_scores_a_model_without_training(project: Project) -> None:
    # the default pipeline already scored its own export (artifacts/model) and agrees with evaluate
    scored = json.loads((project.root / "scored/headline.json").read_text())
    evaluated = json.loads((project.root / "eval/headline.json").read_text())
    assert scored["test_spearman"] == pytest.approx(evaluated["test_spearman"], abs=1e-6)

    # another model: the stage alone runs, no training stage runs or is checked
    sweep_best = "runs/sweep/baseline-222/checkpoints/best.ckpt"
    result = project.dvc("exp", "run", "-S", "profile=predict_only", "-S", f"score_model.model={sweep_best}",
                         "-s", "score_model")
    assert "Running stage 'score_model'" in result.stdout, result.stdout
    assert "Running stage 'train" not in result.stdout and "Running stage 'evaluate'" not in result.stdout
    scored = json.loads((project.root / "scored/headline.json").read_text())
    candidates = json.loads((project.root / "eval/candidates.json").read_text())
    assert scored["test_spearman"] == pytest.approx(candidates["sweep_winner"]["test_spearman"], abs=1e-6)

    # the scored model is a DVC dependency: replacing the file makes the stage stale
    best = project.root / sweep_best
    original = best.read_bytes()
    best.unlink()  # DVC may have linked it from its cache: replace the file, never write through the link
    best.write_bytes((project.root / "runs/finetune/phase1/checkpoints/best.ckpt").read_bytes())
    try:
        assert "score_model" in _stale(project)
    finally:
        best.unlink()
        best.write_bytes(original)
        project.graphqa("params", "compose", "--profile", "ci_fast")


def test_a_second_run_in_a_busy_workspace_is_refused_and_the_first_completes(project: Project) -> None:
    """`dvc exp run` (or `graphqa params compose`) while a dvc command runs: refused before params.yaml changes."""
    import subprocess

    from tests.pipeline.conftest import BIN

    before = (project.root / "params.yaml").read_bytes()
    first = subprocess.Popen([str(BIN / "dvc"), "repro", "--force", "--no-run-cache", "train@baseline-222",
                              "--single-item"], cwd=project.root, env=project.env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        rwlock = project.root / ".dvc/tmp/rwlock"
        deadline = time.monotonic() + 120
        while str(first.pid) not in (rwlock.read_text() if rwlock.is_file() else ""):
            assert first.poll() is None and time.monotonic() < deadline, "the first run never took its locks"
            time.sleep(0.2)
        second = project.dvc("exp", "run", "-S", "seed=5", check=False)
        assert second.returncode != 0
        assert "another DVC process is running" in second.stdout + second.stderr \
            or "another dvc command is running" in second.stdout + second.stderr
        composed = project.graphqa("params", "compose", "--profile", "ci_fast", "seed=5", check=False)
        assert composed.returncode != 0 and f"PID {first.pid}" in composed.stderr, composed.stderr
        assert (project.root / "params.yaml").read_bytes() == before
    finally:
        output, _ = first.communicate(timeout=600)
    assert first.returncode == 0, output[-3000:]

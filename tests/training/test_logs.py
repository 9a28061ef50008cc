"""What a training stage prints: each event once, no adverts, a closing line; the bar shows loss and score."""

from __future__ import annotations

import subprocess
from collections import Counter

from tests.training.test_nan_guard import _stage_env, _train_stage


def test_a_training_stage_prints_each_event_once_and_ends_with_its_best_scores(packed_demo, tmp_path):
    out = tmp_path / "runs" / "baseline-222"
    result = subprocess.run(_train_stage(packed_demo, tmp_path, out, "trainer.max_epochs=2"), cwd=tmp_path,
                            capture_output=True, text=True, env=_stage_env(), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    messages = Counter(line.split(": ", 1)[-1] for line in lines)  # without time and logger name
    assert not [m for m, n in messages.items() if n > 1], lines  # Lightning's lines were printed twice
    assert any("GPU available" in line for line in lines)  # Lightning's own lines still come, once
    for noise in ("💡", "litlogger", "litmodels", "LeafSpec", "was configured so 100%",
                  "smaller than the logging interval"):
        assert not [line for line in lines if noise in line], noise
    closing = [line for line in lines if f"{out}: done, 2 epochs" in line]
    assert len(closing) == 1 and "best epoch" in closing[0] and "selection" in closing[0], lines
    assert "val spearman" in closing[0] and "per-target spearman" in closing[0]


def test_the_progress_bar_shows_the_loss_and_the_validation_score(packed_demo, make_params, tmp_path, monkeypatch):
    import dataclasses

    from graphqa.training.progress import TrainingProgressBar
    from graphqa.training.run import train_run

    params = make_params("ci_fast", "trainer.max_epochs=1")
    params = dataclasses.replace(params, runtime=dataclasses.replace(params.runtime, progress_bar=True))
    seen: list[dict] = []
    original = TrainingProgressBar.get_metrics

    def recording(self, trainer, pl_module):  # noqa: ANN001, ANN202 - records what the real bar shows
        shown = original(self, trainer, pl_module)
        seen.append(shown)
        return shown

    monkeypatch.setattr(TrainingProgressBar, "get_metrics", recording)
    train_run(params, packed_demo.packed_dir, packed_demo.schema_path, tmp_path / "run")
    assert seen and all("v_num" not in shown for shown in seen)
    assert set(seen[-1]) == {"loss", "val score"}
    assert all(float(value) >= 0 for value in seen[-1].values())

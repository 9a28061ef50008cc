"""Learning-rate schedule and scaling of the LightningModule."""

from __future__ import annotations

import math

import pytest

from graphqa.training.module import GraphQAModule, cosine_with_warmup
from graphqa.training.run import train_run


def test_cosine_with_warmup_by_hand():
    factor = cosine_with_warmup(warmup_steps=2, total_steps=10, min_ratio=0.1)
    assert [factor(0), factor(1)] == [0.5, 1.0]
    assert factor(2) == pytest.approx(1.0)
    assert factor(6) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))  # halfway: 0.55
    assert factor(10) == pytest.approx(0.1) and factor(50) == pytest.approx(0.1)


def test_learning_rate_scales_with_the_effective_batch(make_params):
    params = make_params("optimizer.scale_lr=true", "optimizer.lr=0.001", "data.batch_size=64",
                         "trainer.accumulate_grad_batches=2", "optimizer.reference_batch_size=32")
    assert GraphQAModule(5, 3, params).learning_rate() == pytest.approx(0.001 * 64 * 2 / 32)
    assert GraphQAModule(5, 3, make_params("optimizer.lr=0.001")).learning_rate() == pytest.approx(0.001)


def lr_history(run_dir) -> list[float]:
    lines = (run_dir / "dvclive" / "plots" / "metrics" / "lr.tsv").read_text().splitlines()[1:]
    return [float(line.split("\t")[1]) for line in lines]


@pytest.mark.parametrize("scheduler", ["reduce_on_plateau", "cosine"])
def test_warmup_ramps_the_learning_rate_linearly(packed_demo, make_params, tmp_path, scheduler):
    # 96 training graphs in batches of 32: 3 optimizer steps per epoch, so warmup is 3 steps
    params = make_params("ci_fast", f"scheduler.name={scheduler}", "scheduler.warmup_epochs=1",
                         "trainer.max_epochs=2", "optimizer.lr=0.003")
    train_run(params, packed_demo.packed_dir, packed_demo.schema_path, tmp_path / scheduler)
    lrs = lr_history(tmp_path / scheduler)
    assert len(lrs) == 6
    assert lrs[:3] == pytest.approx([0.001, 0.002, 0.003])
    if scheduler == "reduce_on_plateau":
        assert lrs[3:] == pytest.approx([0.003] * 3)
    else:  # then cosine decay towards min_lr
        assert lrs[3] == pytest.approx(0.003) and lrs[3] > lrs[4] > lrs[5] > params.scheduler.min_lr

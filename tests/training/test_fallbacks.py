"""A profile asking for hardware this machine lacks: one warning line, what fits is used and recorded.

The rules are checked against described machines (``Machine``), then one real
run of ``ampere_bf16`` on this machine goes through training, the manifest, the
leaderboard, monitor and doctor.
"""

from __future__ import annotations

import json
import logging

import pytest
import torch

from graphqa.training.hardware import HardwareUnavailable, Machine, fit_to_machine

CPU_2 = Machine(device="cpu", cpus=2)
AMPERE = Machine(device="cuda", cuda_bf16=True, cuda_tf32=True, cpus=16)
TURING = Machine(device="cuda", cuda_bf16=False, cuda_tf32=False, cpus=16)
ON_CUDA = torch.cuda.is_available()


def test_ampere_bf16_on_a_cpu_falls_back_to_what_fits(make_params):
    fit = fit_to_machine(make_params("ampere_bf16"), CPU_2)
    assert fit.requested == {"trainer.precision": "bf16-mixed", "trainer.tf32": True, "runtime.pin_memory": True,
                             "runtime.num_workers": 4}
    assert fit.used == {"trainer.precision": "32-true", "trainer.tf32": False, "runtime.pin_memory": False,
                        "runtime.num_workers": 0}  # workers only take cores from a CPU run
    assert set(fit.reasons) == set(fit.requested)
    line = fit.warning()
    assert line is not None and "\n" not in line
    for text in ("bf16-mixed → 32-true", "needs a CUDA GPU", "trainer.tf32 true → false", "runtime.num_workers 4 → 0",
                 "no accelerator", "runtime.pin_memory true → false"):
        assert text in line, text
    applied = fit.apply_runtime(make_params("ampere_bf16"))
    assert (applied.runtime.num_workers, applied.runtime.pin_memory) == (0, False)
    on_gpu = fit_to_machine(make_params("ampere_bf16"), Machine(device="cuda", cuda_bf16=True, cuda_tf32=True, cpus=2))
    assert on_gpu.used["runtime.num_workers"] == 2 and "2 usable CPUs" in on_gpu.warning()  # 4 workers, 2 CPUs
    assert applied.result_digest() == make_params("ampere_bf16").result_digest()  # runtime knobs: no digest change


def test_what_the_machine_has_is_used_as_asked(make_params):
    fit = fit_to_machine(make_params("ampere_bf16"), AMPERE)
    assert fit.used == fit.requested and not fit.fell_back and fit.warning() is None
    assert fit_to_machine(make_params("default"), CPU_2).warning() is None  # auto → 32-true is a choice, not a fallback
    assert fit_to_machine(make_params("default"), AMPERE).used["trainer.precision"] == "bf16-mixed"


@pytest.mark.parametrize(("profile", "precision"), [("ampere_bf16", "16-mixed"), ("kaggle", "16-mixed")])
def test_a_gpu_without_bf16_or_tf32(make_params, profile, precision):
    fit = fit_to_machine(make_params(profile), TURING)
    assert fit.used["trainer.precision"] == precision and fit.used["trainer.tf32"] is False
    assert ("trainer.precision" in fit.reasons) == (profile == "ampere_bf16")


@pytest.mark.parametrize("profile", ["kaggle", "low_vram", "hpc", "profiling"])
def test_every_mixed_precision_profile_falls_back_on_a_cpu(make_params, profile):
    fit = fit_to_machine(make_params(profile), CPU_2)
    assert fit.used["trainer.precision"] == "32-true" and "trainer.precision" in fit.reasons


def test_bf16_strict_fails_rather_than_fall_back(make_params, packed_demo, tmp_path):
    params = make_params("bf16_strict")
    fit = fit_to_machine(params, CPU_2)
    assert fit.refused and "trainer.hardware_fallback is false" in fit.refused and "bf16-mixed" in fit.refused
    with pytest.raises(HardwareUnavailable):
        fit.require()
    assert fit_to_machine(params, AMPERE).refused is None
    if ON_CUDA:
        return
    from graphqa.training.run import train_run

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "summary.json").write_text('{"status": "completed"}')  # a previous run's output stays untouched
    with pytest.raises(HardwareUnavailable, match="bf16_strict"):
        train_run(params, packed_demo.packed_dir, packed_demo.schema_path, run_dir)
    assert [p.name for p in run_dir.iterdir()] == ["summary.json"]


@pytest.mark.skipif(ON_CUDA, reason="the fallback of a CPU-only machine")
def test_a_real_ampere_bf16_run_on_a_cpu_warns_once_and_records_what_it_used(make_params, packed_demo, tmp_path,
                                                                           caplog, monkeypatch):
    from graphqa.runs.inspect import monitor_snapshot
    from graphqa.runs.leaderboard import RunRecord
    from graphqa.training.run import train_run

    for name in ("GRAPHQA_NUM_WORKERS", "GRAPHQA_PIN_MEMORY", "GRAPHQA_PRECISION"):
        monkeypatch.delenv(name, raising=False)
    params = make_params("ampere_bf16", "trainer.max_epochs=1", "trainer.limit_train_batches=2",
                         "runtime.num_workers=0")
    run_dir = tmp_path / "sweep" / "baseline-222"
    with caplog.at_level(logging.INFO):
        summary = train_run(params, packed_demo.packed_dir, packed_demo.schema_path, run_dir)
    fallbacks = [r for r in caplog.records if "hardware fallback" in r.getMessage()]
    assert len(fallbacks) == 1 and fallbacks[0].levelno == logging.WARNING
    assert "bf16-mixed → 32-true" in fallbacks[0].getMessage()
    assert summary["precision"] == "32-true"
    manifest = json.loads((run_dir / "run_manifest.json").read_text())
    assert manifest["precision"] == {"requested": "bf16-mixed", "resolved": "32-true"}
    assert manifest["tf32"] is False and torch.backends.cuda.matmul.allow_tf32 is False
    hardware = manifest["hardware"]
    assert hardware["requested"]["trainer.precision"] == "bf16-mixed" and hardware["used"]["trainer.precision"] == "32-true"
    assert hardware["used"]["runtime.pin_memory"] is False and "runtime.pin_memory" in hardware["fallbacks"]

    record = RunRecord.from_run_dir(run_dir)
    assert record.key_params["precision"] == "32-true"
    assert "trainer.precision bf16-mixed→32-true" in record.key_params["fallback"]
    snapshot = monitor_snapshot(run_dir)
    assert snapshot["hardware"]["used"]["trainer.precision"] == "32-true"
    assert snapshot["best"]["params"]["precision"] == "32-true"

    # the closing line: best epoch and scores
    closing = [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"{run_dir}: done")]
    assert len(closing) == 1 and "best epoch" in closing[0] and "val spearman" in closing[0]

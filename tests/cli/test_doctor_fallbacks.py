"""``graphqa doctor`` shows what a run here would ask for and use, and why any value falls back."""

from __future__ import annotations

import json

import pytest
import torch

ON_CUDA = torch.cuda.is_available()


@pytest.mark.skipif(ON_CUDA, reason="the fallback of a CPU-only machine")
def test_doctor_shows_asked_and_used_values(cli, repo_root, tmp_path, monkeypatch):
    from graphqa.compose import compose

    params = compose(["ampere_bf16"], [], tmp_path / "params.yaml", config_dir=repo_root / "params")
    monkeypatch.delenv("GRAPHQA_NUM_WORKERS", raising=False)
    monkeypatch.delenv("GRAPHQA_PIN_MEMORY", raising=False)
    result = cli("doctor", "--json", "--params", params)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["precision_requested"] == "bf16-mixed" and report["precision_resolved"] == "32-true"
    assert report["hardware"]["used"]["trainer.tf32"] is False
    assert "needs a CUDA GPU" in report["hardware"]["fallbacks"]["trainer.precision"]
    table = cli("doctor", "--params", params)
    assert "bf16-mixed → 32-true" in table.stdout and "fallback" in table.stdout

    strict = compose(["bf16_strict"], [], tmp_path / "strict.yaml", config_dir=repo_root / "params")
    refused = cli("doctor", "--json", "--params", strict)
    assert refused.exit_code == 1 and any("hardware_fallback is false" in p
                                          for p in json.loads(refused.stdout)["problems"])

"""``graphqa doctor``: what a run on this machine would use, from the trainer's own resolution."""

from __future__ import annotations

import json

import torch


def expected_auto_precision() -> str:
    """The precision rule of docs/ARCHITECTURE.md ("Profiles"), written out independently of the code under test."""
    if not torch.cuda.is_available():
        return "32-true"
    return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"


def test_doctor_json_reports_versions_devices_precision_and_workers(cli, monkeypatch, tmp_path):
    import lightning
    import torch_geometric

    monkeypatch.chdir(tmp_path)  # no params.yaml or params/ here: the built-in defaults
    monkeypatch.setenv("GRAPHQA_NUM_WORKERS", "3")
    result = cli("doctor", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["versions"]["torch"] == torch.__version__
    assert report["versions"]["lightning"] == lightning.__version__
    assert report["versions"]["torch_geometric"] == torch_geometric.__version__
    assert report["versions"]["dvc"] and report["versions"]["dvclive"]
    assert report["cuda_available"] == torch.cuda.is_available()
    assert len(report["devices"]) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)
    for device in report["devices"]:
        major = int(device["capability"].split(".")[0])
        assert device["tf32"] == (major >= 8)
    assert report["precision_auto"] == expected_auto_precision()
    assert report["num_workers"] == 3 and report["env_overrides"] == {"runtime.num_workers": 3}
    assert report["params_source"].startswith("built-in defaults")


def test_doctor_reads_the_params_file_it_is_given(cli, repo_root, tmp_path, monkeypatch):
    from graphqa.compose import compose

    params = compose(["ampere_bf16"], [], tmp_path / "params.yaml", config_dir=repo_root / "params")
    monkeypatch.delenv("GRAPHQA_NUM_WORKERS", raising=False)
    result = cli("doctor", "--json", "--params", params)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["precision_requested"] == "bf16-mixed" and report["tf32_param"] is True
    assert report["num_workers"] == 4 and report["pin_memory"] is True
    assert report["env_overrides"] == {}


def test_doctor_table(cli, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    result = cli("doctor")
    assert result.exit_code == 0, result.output
    for text in ("Versions", "lightning", "torch_geometric", "CUDA available", "bf16 support", "TF32 support",
                 "precision `auto` picks", expected_auto_precision(), "data loader workers"):
        assert text in result.stdout, text


def test_a_bad_environment_override_names_the_variable(cli, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GRAPHQA_NUM_WORKERS", "many")
    result = cli("doctor")
    assert result.exit_code == 2
    assert "GRAPHQA_NUM_WORKERS='many': expected an integer >= 0" in result.stderr

"""Params: composition of profiles, the committed params.yaml, typed validation."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from graphqa.compose import compose, composed, list_profiles, profile_changes
from graphqa.config import ParamsError, apply_env_overrides, load_params, params_from_dict

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = ROOT / "params"
PROFILES = sorted(p.stem for p in (CONFIG_DIR / "profile").glob("*.yaml"))
DVC = str(Path(sys.executable).with_name("dvc"))

# What docs/ARCHITECTURE.md ("Profiles") promises for each profile: dotted key -> value.
PROMISES: dict[str, dict[str, object]] = {
    "default": {},
    "local_dev": {"trainer.precision": "32-true", "trainer.limit_train_batches": 0.25,
                  "trainer.limit_val_batches": 0.5, "runtime.num_workers": 4},
    "ci_fast": {"trainer.precision": "32-true", "trainer.max_epochs": 2, "trainer.deterministic": True,
                "runtime.num_workers": 0, "sweep.variants": ["baseline"], "finetune.phase2.seeds": [101]},
    "kaggle": {"trainer.precision": "16-mixed", "trainer.val_check_interval": 0.5, "runtime.num_workers": 2,
               "runtime.pin_memory": True, "runtime.prefetch_factor": 2, "logging.offline": True,
               "trainer.max_time": "00:09:00:00"},
    "kaggle_submit": {"trainer.precision": "16-mixed", "logging.offline": True, "evaluate.submission": True},
    "ampere_bf16": {"trainer.precision": "bf16-mixed", "trainer.tf32": True, "runtime.num_workers": 4,
                    "runtime.pin_memory": True},
    "bf16_strict": {"trainer.precision": "bf16-mixed", "trainer.tf32": False, "trainer.deterministic": True,
                    "trainer.hardware_fallback": False},
    "amp_off": {"trainer.precision": "32-true"},
    "full": {"trainer.precision": "16-mixed", "scheduler.name": "cosine"},
    "ablation_priors_off": {"loss.priors.ranking": 0.0, "loss.priors.listwise": 0.0, "loss.mse_weight": 1.0},
    "debug": {"trainer.precision": "32-true", "trainer.limit_train_batches": 1, "trainer.max_epochs": 1,
              "trainer.detect_anomaly": True, "runtime.num_workers": 0, "logging.verbose": True},
    "overfit_small": {"trainer.overfit_batches": 2, "loss.priors.ranking": 0.0, "loss.priors.listwise": 0.0},
    "low_vram": {"trainer.precision": "16-mixed", "data.batch_size": 16, "trainer.accumulate_grad_batches": 4,
                 "runtime.num_workers": 1},
    "cpu": {"trainer.accelerator": "cpu", "trainer.precision": "32-true", "runtime.num_workers": 0,
            "runtime.pin_memory": False},
    "ddp": {"trainer.strategy": "ddp", "runtime.num_workers": 4},
    "hpc": {"trainer.precision": "bf16-mixed", "runtime.num_workers": 16, "runtime.persistent_workers": True,
            "trainer.benchmark": True},
    "wandb_online": {"logging.wandb": True, "logging.offline": False},
    "mlflow": {"logging.mlflow": True},
    "profiling": {"trainer.precision": "bf16-mixed", "runtime.num_workers": 4, "runtime.pin_memory": True,
                  "runtime.prefetch_factor": 4, "trainer.profiler": "advanced"},
    "resume": {"runtime.resume": True},
    "notebook": {"runtime.num_workers": 2, "runtime.persistent_workers": False, "logging.offline": True},
    "predict_only": {"profiles.predict_only": True},
    "diagnose": {"trainer.diagnostics": True},
    "hyper_sweep": {"logging.offline": True},
    "finetune_released": {"model.arch": "topoqa", "model.init_from": "models/topoqa_released",
                          "sweep.variants": ["topoqa"]},
}


def _get(tree: dict, dotted: str) -> object:
    for part in dotted.split("."):
        tree = tree[part]
    return tree


def test_every_profile_file_is_promised_and_documented() -> None:
    assert len(PROFILES) == 25
    assert sorted(PROMISES) == PROFILES
    for profile in list_profiles(CONFIG_DIR):
        assert profile.purpose, f"{profile.path} lacks its one-line purpose comment"


@pytest.mark.parametrize("name", PROFILES)
def test_profile_composes_to_what_it_promises(name: str) -> None:
    raw = composed([name], config_dir=CONFIG_DIR)
    params_from_dict(raw)  # every profile yields valid params
    assert name in raw["profiles"], "the applied profile is recorded"
    for key, value in PROMISES[name].items():
        assert _get(raw, key) == value, f"{name}: {key}"


def test_profiles_change_only_what_they_name() -> None:
    changes = {key for key, _, _ in profile_changes("amp_off", CONFIG_DIR)}
    assert changes == {"trainer.precision"}


def test_stacked_profiles_apply_left_to_right() -> None:
    raw = composed(["ampere_bf16", "low_vram"], config_dir=CONFIG_DIR)
    assert list(raw["profiles"]) == ["ampere_bf16", "low_vram"]
    assert raw["trainer"]["precision"] == "16-mixed"  # low_vram wins
    assert raw["trainer"]["tf32"] is True  # ampere_bf16's, untouched by low_vram
    assert raw["data"]["batch_size"] == 16 and raw["trainer"]["accumulate_grad_batches"] == 4
    reverse = composed(["low_vram", "ampere_bf16"], config_dir=CONFIG_DIR)
    assert reverse["trainer"]["precision"] == "bf16-mixed"


def test_committed_params_yaml_is_the_default_composition(tmp_path: Path) -> None:
    fresh = compose((), (), tmp_path / "params.yaml", CONFIG_DIR)
    committed = (ROOT / "params.yaml").read_text()
    assert committed == fresh.read_text(), "params.yaml is stale: run `graphqa params compose`"


def test_compose_unknown_profile_lists_available(tmp_path: Path) -> None:
    target = tmp_path / "params.yaml"
    target.write_text("untouched")
    with pytest.raises(ParamsError, match="available: .*ampere_bf16"):
        compose(["nope"], (), target, CONFIG_DIR)
    assert target.read_text() == "untouched"


def test_cli_compose_unknown_profile_fails(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "graphqa", "params", "compose", "--profile", "nope", "-o", str(tmp_path / "p.yaml")],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert "available:" in result.stderr and "ci_fast" in result.stderr
    assert not (tmp_path / "p.yaml").exists()


def test_invalid_override_leaves_params_untouched(tmp_path: Path) -> None:
    target = tmp_path / "params.yaml"
    target.write_text("untouched")
    with pytest.raises(ParamsError, match="optimizer.lr"):
        compose((), ["optimizer.lr=-1"], target, CONFIG_DIR)
    assert target.read_text() == "untouched"


# ---------------------------------------------------------------- typed validation


def _default_raw() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("optimizer.lr", 0.0, "optimizer.lr: expected a learning rate > 0"),
        ("data.batch_size", 0, "data.batch_size: expected an integer >= 1"),
        ("scheduler.name", "step", "scheduler.name: 'step' is not allowed; expected one of: none, reduce_on_plateau, cosine"),
        ("trainer.precision", "fp8", "trainer.precision: 'fp8' is not allowed; expected one of: auto, 32-true"),
        ("trainer.max_epochs", "ten", "trainer.max_epochs: expected an integer"),
        ("trainer.bogus", 1, "trainer.bogus: unknown key; expected one of: accelerator"),
        ("model.pooling", "sum", "model.pooling: 'sum' is not allowed; expected one of: mean, add, max"),
        ("sweep.variants", ["baseline", "huge"], r"sweep.variants\[huge\]: no overlay sweep.overlays.huge"),
        ("sweep.overlays.low_lr", {"optimizer": {"lr": -3}}, "sweep.overlays.low_lr: optimizer.lr: expected a learning rate > 0"),
        ("finetune.phase1", {"model": {"hidden_dim": 8}}, "finetune.phase1.model: an overlay may change only"),
    ],
)
def test_invalid_params_name_the_key(key: str, value: object, message: str) -> None:
    raw = _default_raw()
    *parents, last = key.split(".")
    node = raw
    for part in parents:
        node = node[part]
    node[last] = value
    with pytest.raises(ParamsError, match=message):
        params_from_dict(raw)


def test_load_params_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "params.yaml"
    bad.write_text("optimizer: {lr: 0}\n")
    with pytest.raises(ParamsError, match=f"{bad}: optimizer.lr"):
        load_params(bad)
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "missing.yaml")


def test_member_and_finetune_params_apply_overlays() -> None:
    params = load_params(ROOT / "params.yaml")
    assert params.sweep.members == ["baseline-222", "low_lr-222", "large_batch-222", "topoqa-222"]
    low_lr = params.for_member("low_lr", 7)
    assert low_lr.optimizer.lr == 0.001 and low_lr.seed == 7 and low_lr.data == params.data
    phase2 = params.for_member("large_batch", 222).for_finetune("phase2", seed=555)
    assert phase2.data.batch_size == 64 and phase2.optimizer.lr == 0.0005 and phase2.seed == 555
    assert params_from_dict(params.to_dict()) == params  # round trip


def test_env_overrides_apply_and_are_reported() -> None:
    params = load_params(ROOT / "params.yaml")
    new, applied = apply_env_overrides(params, {"GRAPHQA_NUM_WORKERS": "3", "GRAPHQA_PROGRESS_BAR": "off"})
    assert new.runtime.num_workers == 3 and new.runtime.progress_bar is False
    assert applied == {"runtime.num_workers": 3, "runtime.progress_bar": False}
    with pytest.raises(ParamsError, match="GRAPHQA_PIN_MEMORY='maybe'"):
        apply_env_overrides(params, {"GRAPHQA_PIN_MEMORY": "maybe"})
    with pytest.raises(ParamsError, match="GRAPHQA_NUM_WORKERS='-1'"):
        apply_env_overrides(params, {"GRAPHQA_NUM_WORKERS": "-1"})


# ---------------------------------------------------------------- through DVC itself


def _dvc_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copytree(CONFIG_DIR, repo / "params")
    shutil.copytree(ROOT / "hydra_plugins", repo / "hydra_plugins", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "params.yaml", repo / "params.yaml")
    (repo / "dvc.yaml").write_text(
        "stages:\n  echo:\n    cmd: cp params.yaml seen.yaml\n    params: [trainer]\n    outs: [seen.yaml]\n"
    )
    run = lambda *cmd: subprocess.run(cmd, cwd=repo, check=True, capture_output=True, text=True)  # noqa: E731
    run("git", "init", "-q")
    run(DVC, "init", "-q")
    for key, value in [("hydra.enabled", "true"), ("hydra.config_dir", "params"), ("hydra.config_name", "config")]:
        run(DVC, "config", key, value)
    (repo / ".gitignore").write_text("seen.yaml\n")
    run("git", "add", "-A")
    run("git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    return repo


def test_dvc_exp_run_composes_the_same_bytes(tmp_path: Path) -> None:
    repo = _dvc_repo(tmp_path)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    import os

    subprocess.run([DVC, "exp", "run", "-S", "profile=[ampere_bf16,low_vram]", "-S", "optimizer.lr=0.003"],
                   cwd=repo, check=True, capture_output=True, text=True, env={**os.environ, **env})
    ours = compose(["ampere_bf16", "low_vram"], ["optimizer.lr=0.003"], tmp_path / "ours.yaml", CONFIG_DIR)
    assert (repo / "params.yaml").read_bytes() == ours.read_bytes()

    failed = subprocess.run([DVC, "exp", "run", "-S", "profile=nope"], cwd=repo, capture_output=True, text=True,
                            env={**os.environ, **env})
    assert failed.returncode != 0
    assert "Could not find 'profile/nope'" in failed.stderr + failed.stdout
    assert "ampere_bf16" in failed.stderr + failed.stdout  # Hydra lists the available options


@pytest.mark.parametrize(("override", "message"), [
    ("optimizer.lr=abc", "optimizer.lr: expected a number"),
    ("+optimiser.lr=0.01", "optimiser: unknown key"),  # Hydra's own suggestion for a typo
    ("sweep.variants=['a$(touch pwned)']", "sweep.variants"),
])
def test_dvc_exp_run_refuses_bad_params_while_composing(tmp_path: Path, override: str, message: str) -> None:
    """Checked by the params_check resolver during DVC's composition: nothing runs, params.yaml is untouched."""
    import os

    repo = _dvc_repo(tmp_path)
    before = (repo / "params.yaml").read_bytes()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    failed = subprocess.run([DVC, "exp", "run", "-S", override], cwd=repo, capture_output=True, text=True, env=env)
    assert failed.returncode != 0
    assert message in failed.stderr + failed.stdout, failed.stderr + failed.stdout
    assert (repo / "params.yaml").read_bytes() == before
    assert not (repo / "seen.yaml").exists() and not (repo / "pwned").exists()

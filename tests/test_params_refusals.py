"""Params that would train something wrong, or nothing, are refused naming the key; YAML read as DVC reads it.

Each case is a small params.yaml on disk (every other key at its default) read by ``load_params``, as every
stage reads it, and the user-facing ones through ``graphqa params check``. docs/RELIABILITY.md lists them.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from graphqa.config import ParamsError, load_params

GRAPHQA = str(Path(sys.executable).with_name("graphqa"))
SWEEP = "sweep:\n  seeds: [222]\n  variants: [baseline]\n  overlays:\n    baseline: {}\n"


def params_file(tmp_path: Path, text: str, sweep: str = SWEEP) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text + ("" if "sweep:" in text else sweep), encoding="utf-8")
    return path


REFUSED = {
    "lr=inf": ("optimizer:\n  lr: .inf\n", "optimizer.lr: inf is not finite; expected a finite value"),
    "lr=nan": ("optimizer:\n  lr: .nan\n", "optimizer.lr: nan is not a number; expected a finite value"),
    "lr=1e300": ("optimizer:\n  lr: 1.0e+300\n",
                 "optimizer.lr: 1e+300 is too large (beyond float32's 3.403e+38 it is inf in training)"),
    "duplicate sweep seeds": ("sweep:\n  seeds: [1, 2, 1]\n  variants: [baseline]\n  overlays:\n    baseline: {}\n",
                              "sweep.seeds: seed 1 is listed more than once; expected distinct seeds"),
    "duplicate phase-2 seeds": ("finetune:\n  phase2:\n    seeds: [5, 5]\n",
                                "finetune.phase2.seeds: seed 5 is listed more than once"),
    "min_lr above lr": ("scheduler:\n  min_lr: 0.1\n",
                        "scheduler.min_lr: 0.1 is above optimizer.lr 0.005, so the reduce_on_plateau schedule "
                        "could never lower the lr; expected min_lr <= lr"),
    "min_lr above a variant's lr": (
        "sweep:\n  seeds: [1]\n  variants: [tiny]\n  overlays:\n    tiny:\n      optimizer: {lr: 1.0e-6}\n",
        "scheduler.min_lr: 1e-05 is above optimizer.lr 1e-06 (in sweep.overlays.tiny)"),
    "seed -1": ("seed: -1\n", "seed: seed -1 is out of range; expected an integer in [0, 4294967295]"),
    "sweep seed 2**32": ("sweep:\n  seeds: [4294967296]\n  variants: [baseline]\n  overlays:\n    baseline: {}\n",
                         "sweep.seeds[0]: seed 4294967296 is out of range"),
    "phase-2 seed -1": ("finetune:\n  phase2:\n    seeds: [-1]\n", "finetune.phase2.seeds[0]: seed -1 is out of range"),
    "variant ending in -": ("sweep:\n  seeds: [1]\n  variants: [baseline-]\n  overlays:\n    baseline-: {}\n",
                            "sweep.variants['baseline-']: expected"),
    "max_epochs=0": ("trainer:\n  max_epochs: 0\n", "trainer.max_epochs: 0 epochs would train nothing"),
    "max_time=0": ("trainer:\n  max_time: '00:00:00:00'\n",
                   "trainer.max_time: '00:00:00:00' would stop before the first step"),
    "limit_val_batches=0": ("trainer:\n  limit_val_batches: 0\n",
                            "trainer.limit_val_batches: 0 skips validation, which selection and checkpoints need"),
    "duplicate key": ("optimizer:\n  lr: 0.01\n  name: adam\n  lr: 0.001\n",
                      "line 4: key 'lr' appears twice in the same mapping (first at line 2); expected each key once"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_bad_params_are_refused_naming_the_key(case: str, tmp_path: Path) -> None:
    text, message = REFUSED[case]
    path = params_file(tmp_path, text)
    with pytest.raises(ParamsError) as caught:
        load_params(path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value), str(caught.value)


@pytest.mark.parametrize("case", ["lr=inf", "duplicate key", "max_epochs=0", "seed -1"])
def test_graphqa_params_check_refuses_without_a_traceback(case: str, tmp_path: Path) -> None:
    text, message = REFUSED[case]
    params_file(tmp_path, text)
    result = subprocess.run([GRAPHQA, "params", "check", "params.yaml"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in " ".join(result.stderr.split())


def test_duplicate_keys_are_refused_by_dvc_too(tmp_path: Path) -> None:
    from dvc.utils.serialize import YAMLFileCorruptedError, parse_yaml

    text = REFUSED["duplicate key"][0] + SWEEP
    with pytest.raises(YAMLFileCorruptedError):
        parse_yaml(text, "params.yaml")


@pytest.mark.parametrize(("written", "value"), [("1e-3", 0.001), ("5E-4", 0.0005), ("2e+0", 2.0), ("1.0e-3", 0.001)])
def test_exponent_floats_without_a_dot_read_as_dvc_reads_them(tmp_path: Path, written: str, value: float) -> None:
    from dvc.utils.serialize import parse_yaml

    text = f"optimizer:\n  lr: {written}\n"
    assert parse_yaml(text, "params.yaml")["optimizer"]["lr"] == value  # DVC (YAML 1.2)
    assert load_params(params_file(tmp_path, text)).optimizer.lr == value
    result = subprocess.run([GRAPHQA, "params", "check", "params.yaml"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0 and "params.yaml: valid" in result.stdout, result.stderr


def billion_laughs(levels: int = 9) -> str:
    """YAML anchors that expand to 10**levels list items (the values are shared, the expansion is not)."""
    lines = ["lol0: &lol0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_params_file_is_refused_under_a_memory_cap(tmp_path: Path) -> None:
    # The bomb sits where a check used to format the whole value into its message: sweep.seeds.
    text = billion_laughs().replace("lol9: &lol9", "bomb: &lol9")
    path = tmp_path / "params.yaml"
    path.write_text("x: &x\n" + "".join(f"  {line}\n" for line in text.splitlines())
                    + "sweep:\n  seeds: *lol9\n  variants: [baseline]\n  overlays:\n    baseline: {}\n")
    cap = 1 << 30

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    result = subprocess.run([GRAPHQA, "params", "check", "params.yaml"], cwd=tmp_path, capture_output=True, text=True,
                            preexec_fn=limit, timeout=300)  # noqa: PLW1509
    assert result.returncode == 2 and "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    assert ("params.yaml: expands to more than 100000 values (YAML anchors/aliases?); a params file holds a few "
            "hundred") in " ".join(result.stderr.split())


@pytest.mark.parametrize(("text", "message"), [
    ("a: &a [*a]\n", "a YAML alias refers to the mapping or list that contains it"),
    ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply to be a params file"),
])
def test_self_referencing_or_absurdly_deep_yaml_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(ParamsError, match=message):
        load_params(path)

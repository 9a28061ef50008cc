"""Each stage's code deps in dvc.yaml are exactly the files its script runs (both ways)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tools.stage_deps import ROOT, closure, stage_code_deps

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
EXAMPLE = "examples/real_structures/dvc.yaml"  # its stage runs stages/build_graphs.py from the project's root
EXAMPLE_STAGES = yaml.safe_load((ROOT / EXAMPLE).read_text())["stages"]


def _code_deps(stage: dict) -> tuple[str, list[str]]:
    body = stage.get("do", stage)
    deps = [d for d in body["deps"] if d.startswith(("stages/", "src/"))]
    script = next(part for part in body["cmd"].split() if part.startswith("stages/"))
    return script, deps


@pytest.mark.parametrize(("dvc_yaml", "name"), [("dvc.yaml", n) for n in sorted(STAGES)] +
                         [(EXAMPLE, n) for n in sorted(EXAMPLE_STAGES) if "stages/" in EXAMPLE_STAGES[n]["cmd"]])
def test_code_deps_are_the_import_closure(dvc_yaml: str, name: str) -> None:
    script, listed = _code_deps((STAGES if dvc_yaml == "dvc.yaml" else EXAMPLE_STAGES)[name])
    expected = stage_code_deps(ROOT / script)
    missing, extra = sorted(set(expected) - set(listed)), sorted(set(listed) - set(expected))
    assert not missing and not extra, (
        f"{dvc_yaml} stage {name}: missing {missing}, not run by {script}: {extra} "
        "(fix with: python -m tools.stage_deps --write)")


def test_closure_follows_lazy_exports_and_the_model_registry() -> None:
    files = {p.relative_to(ROOT).as_posix() for p in closure(ROOT / "stages/evaluate.py")}
    assert "src/graphqa/data/store.py" in files  # `from graphqa.data import PackedGraphStore` (lazy export)
    assert "src/graphqa/models/gatv2_edge.py" in files  # "graphqa.models.gatv2_edge:GATv2EdgeNet"
    assert "src/graphqa/data/datamodule.py" not in files  # lazily exported, but evaluate never asks for it
    assert not any(f.startswith("src/graphqa/training/") for f in files)  # scoring runs without Lightning
    # `import _guard`: the module beside the script, listed after the script itself
    assert stage_code_deps(ROOT / "stages/evaluate.py")[:2] == ["stages/evaluate.py", "stages/_guard.py"]


def test_demo_generator_is_no_stage_dep() -> None:
    for name, stage in STAGES.items():
        _, deps = _code_deps(stage)
        assert not any(Path(d).is_relative_to("src/graphqa/demo") or d == "src/graphqa" for d in deps), name

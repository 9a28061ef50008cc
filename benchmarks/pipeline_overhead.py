"""Pipeline overhead: ``dvc repro`` with nothing to do, ``dvc exp show``, and each stage script's start-up.

A throw-away git + DVC project is made from this checkout's working tree
(small demo data tracked by ``data.dvc``, params composed with the
``ci_fast`` profile) and reproduced once, untimed (its wall time is
recorded). Then, timed: ``dvc repro`` (nothing changed, so nothing runs),
``dvc status`` and ``dvc exp show``.

Stage start-up: ``python stages/<stage>.py --help`` (argument parsing and
module-level imports), and the import cost of what the stage's body imports
before it does any work (one fresh interpreter each, interpreter start-up
included): the figure a user waits before a stage starts working.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from tools.stage_deps import stage_scripts
from tools.working_tree import copy_working_tree

from benchmarks.common import BIN, ROOT, Settings, child_env, summary

log = logging.getLogger("benchmarks.pipeline_overhead")

# What each stage body imports before doing work (stages/*.py and the functions they call).
STAGE_IMPORTS: dict[str, tuple[str, ...]] = {
    "schema": ("graphqa.config", "graphqa.data.discover", "graphqa.data.errors", "graphqa.data.progress"),
    "pack": ("graphqa.data.pack", "graphqa.data.errors", "graphqa.data.progress"),
    "train": ("graphqa.config", "graphqa.training.run", "graphqa.data.datamodule", "graphqa.training.module",
              "graphqa.training.trainer", "graphqa.training.callbacks", "graphqa.training.loggers", "dvclive.lightning"),
    "select_best": ("graphqa.config", "graphqa.runs.leaderboard"),
    "finetune": ("graphqa.config", "graphqa.runs.leaderboard", "graphqa.training.run", "graphqa.data.datamodule",
                 "graphqa.training.module", "graphqa.training.trainer", "graphqa.training.callbacks",
                 "graphqa.training.loggers", "graphqa.training.checkpoint", "dvclive.lightning"),
    "evaluate": ("torch", "graphqa.config", "graphqa.data.store", "graphqa.evaluation.candidates", "graphqa.runs.leaderboard",
                 "graphqa.inference.predictor", "graphqa.inference.checkpoint"),
    "check_params": ("graphqa.config",),
    "score_model": ("torch", "graphqa.config", "graphqa.data.store", "graphqa.evaluation.given_model",
                    "graphqa.evaluation.candidates", "graphqa.inference.predictor", "graphqa.inference.model_dir"),
    "build_graphs": ("graphqa.config", "graphqa.structures.build"),
}
TRAINING_STAGES = ("train", "finetune")


class Project:
    """A git + DVC repo made from this checkout, for real ``dvc`` commands."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = child_env(GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@localhost",
                             GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@localhost")
        self.env.pop("PYTHONPATH", None)  # the project must run on the installed package, as a user's would

    def run(self, *cmd: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(cmd, cwd=self.root, env=self.env, capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def timed(self, *cmd: str) -> float:
        start = time.perf_counter()
        self.run(*cmd)
        return time.perf_counter() - start


def make_project(dest: Path, targets: int, decoys: int) -> Project:
    dest.mkdir(parents=True)
    copy_working_tree(dest)
    project = Project(dest)
    project.run("git", "init", "-q", "-b", "main")
    (dest / "data.dvc").unlink(missing_ok=True)
    from graphqa.demo.generate import generate_demo

    generate_demo(dest / "data", targets=targets, decoys=decoys, seed=7)  # what `graphqa data demo` writes
    project.run(str(BIN / "dvc"), "add", "-q", "data")
    from graphqa.compose import compose

    compose(["ci_fast"], output=dest / "params.yaml", config_dir=dest / "params")  # `graphqa params compose`
    project.run("git", "add", "-A")
    project.run("git", "commit", "-qm", "benchmark project")
    return project


def dvc_overhead(workdir: Path, settings: Settings) -> dict[str, Any]:
    root = workdir / "dvc-project"
    if root.exists():
        shutil.rmtree(root)
    start = time.perf_counter()
    project = make_project(root, *settings.pipeline_demo)
    setup_s = time.perf_counter() - start
    dvc = str(BIN / "dvc")
    # The smoke run reproduces the data stages only; `make bench` the whole ci_fast pipeline.
    targets: tuple[str, ...] = () if settings.pipeline_full else ("pack",)
    start = time.perf_counter()
    project.run(dvc, "repro", *targets)
    first_repro_s = time.perf_counter() - start
    project.run("git", "add", "-A")
    project.run("git", "commit", "-qm", "reproduced", "--allow-empty")
    repro, status, exp_show = [], [], []
    for _ in range(settings.reps):
        repro.append(project.timed(dvc, "repro", *targets))
        status.append(project.timed(dvc, "status", *targets))
        exp_show.append(project.timed(dvc, "exp", "show", "--no-pager"))
    out = project.run(dvc, "repro", *targets).stdout
    nothing_ran = "Running stage" not in out
    result = {
        "scope": "whole ci_fast pipeline" if settings.pipeline_full else "schema + pack",
        "demo": {"targets": settings.pipeline_demo[0], "decoys": settings.pipeline_demo[1]},
        "project_setup_s": round(setup_s, 2), "first_repro_s": round(first_repro_s, 2),
        "noop_repro_s": summary(repro, 3), "noop_repro_ran_nothing": nothing_ran,
        "status_s": summary(status, 3), "exp_show_s": summary(exp_show, 3),
    }
    shutil.rmtree(root, ignore_errors=True)
    return result


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


def _check_imports(stages: list[str]) -> None:
    """Every module a stage is listed to import exists (so the lists cannot rot unnoticed)."""
    import importlib.util

    unknown = [s for s in stages if s not in STAGE_IMPORTS]
    if unknown:
        raise RuntimeError(f"benchmarks/pipeline_overhead.py: no import list for stage(s) {unknown}; add them to STAGE_IMPORTS")
    missing = [m for s in stages for m in STAGE_IMPORTS[s] if importlib.util.find_spec(m) is None]
    if missing:
        raise RuntimeError(f"benchmarks/pipeline_overhead.py: STAGE_IMPORTS names missing modules {missing}")


def stage_startup(settings: Settings) -> dict[str, Any]:
    env = child_env()
    python = str(BIN / "python")
    stages = [p.stem for p in stage_scripts()]
    _check_imports(stages)
    # The smoke run times the imports of two stages only (one with torch, one without).
    timed_imports = stages if settings.mode == "full" else [s for s in stages if s in ("schema", "select_best")]
    help_s: dict[str, list[float]] = {s: [] for s in stages}
    import_s: dict[str, list[float]] = {s: [] for s in timed_imports}
    bare: list[float] = []
    torch_only: list[float] = []  # the floor of every stage that reads tensors
    for _ in range(settings.reps):
        bare.append(_wall([python, "-c", "pass"], env))
        torch_only.append(_wall([python, "-c", "import torch"], env))
        for stage in stages:  # interleaved: every stage in every rep
            help_s[stage].append(_wall([python, f"stages/{stage}.py", "--help"], env))
            if stage in import_s:
                import_s[stage].append(_wall([python, "-c", "import " + ", ".join(STAGE_IMPORTS[stage])], env))
    rows = [{"stage": s, "trains": s in TRAINING_STAGES, "help_s": summary(help_s[s], 3),
             "import_s": summary(import_s[s], 3) if s in import_s else None, "imports": list(STAGE_IMPORTS[s])}
            for s in stages]
    return {"interpreter_s": summary(bare, 3), "import_torch_s": summary(torch_only, 3), "stages": rows}


def run(settings: Settings, workdir: Path) -> dict[str, Any]:
    result = {"stages": stage_startup(settings)}
    log.info("pipeline: stage start-up measured; reproducing a throw-away DVC project")
    result["dvc"] = dvc_overhead(workdir, settings)
    result["cpus"] = os.cpu_count()
    return result

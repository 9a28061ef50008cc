"""What every benchmark group shares: the run settings, timing, memory readings, the demo data set."""

from __future__ import annotations

import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("benchmarks")

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass
class Settings:
    """Sizes and repetitions of one benchmark run (``full`` for ``make bench``, ``quick`` for a smoke run)."""

    mode: str
    reps: int  # repetitions of each timed measurement; every figure is their median
    demo_targets: int
    demo_decoys: int
    batch_sizes: tuple[int, ...] = (16, 128)
    baseline_workers: tuple[int, ...] = (0, 2)
    step_counts: dict[int, int] = field(default_factory=dict)  # batch size -> timed optimizer steps per rep
    epoch_epochs: int = 2  # epochs per Lightning fit in the epoch comparison
    rss_epochs: int = 6  # epochs of the memory probes
    scaling_sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    scaling_reps: dict[int, int] = field(default_factory=dict)  # size -> pack repetitions
    pipeline_full: bool = True  # reproduce the whole ci_fast pipeline (else schema + pack only)
    pipeline_demo: tuple[int, int] = (12, 24)  # targets, decoys of the throw-away DVC project
    compile_steps: int = 20  # timed steps per rep, eager and compiled (compiled_step group)
    # torch.compile backend of the compiled rows: inductor is what trainer.compile uses; the smoke run takes
    # eager (dynamo tracing only, no code generation: minutes less; its figures mean nothing)
    compile_backend: str = "inductor"

    @classmethod
    def full(cls) -> Settings:
        return cls(mode="full", reps=3, demo_targets=30, demo_decoys=40,
                   step_counts={16: 30, 128: 8}, epoch_epochs=3, rss_epochs=10,
                   scaling_sizes=(1_000, 10_000, 100_000), scaling_reps={1_000: 3, 10_000: 2, 100_000: 1})

    @classmethod
    def quick(cls) -> Settings:
        """A smoke run: every code path, tiny sizes, one repetition."""
        return cls(mode="quick", reps=1, demo_targets=4, demo_decoys=8, baseline_workers=(0, 2),
                   step_counts={16: 2, 128: 1}, epoch_epochs=1, rss_epochs=3,
                   scaling_sizes=(40, 80), scaling_reps={40: 1, 80: 1},
                   pipeline_full=False, pipeline_demo=(3, 4), compile_steps=3, compile_backend="eager")


# ---------------------------------------------------------------- timing


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def timed(fn: Callable[[], Any]) -> float:
    """Wall seconds of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def summary(values: list[float], digits: int = 4) -> dict[str, Any]:
    """Median plus the raw repetitions (so the spread is visible in the JSON)."""
    return {"median": round(median(values), digits), "reps": [round(v, digits) for v in values]}


def loadavg() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


# ---------------------------------------------------------------- memory


def proc_status_mb(pid: int | str = "self") -> dict[str, float]:
    """VmRSS / RssAnon / RssFile / VmHWM of a process in MiB (Linux ``/proc``; empty elsewhere)."""
    out: dict[str, float] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MiB.

    ``VmHWM`` where ``/proc`` has it: ``ru_maxrss`` survives ``exec``, so in a
    helper process it would report the (bigger) parent that forked it.
    """
    hwm = proc_status_mb().get("VmHWM")
    if hwm is not None:
        return hwm
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


# ---------------------------------------------------------------- subprocesses


def run_json(args: list[str], *, cwd: Path | None = None, timeout: float = 1200,
             env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a helper process that prints one JSON object as its last stdout line; return it."""
    result = subprocess.run(args, cwd=cwd or ROOT, capture_output=True, text=True, timeout=timeout,
                            env=env or child_env(), stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def child_env(**extra: str) -> dict[str, str]:
    """Environment of helper processes: this interpreter first on PATH, no progress bars or analytics."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "DVC_NO_ANALYTICS": "1",
           "GRAPHQA_PROGRESS_BAR": "0"}
    env.update(extra)
    return env


# ---------------------------------------------------------------- environment


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def environment() -> dict[str, Any]:
    """Where the numbers were taken: machine, load, thread counts, versions, commit."""
    import torch

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count()
    cuda = torch.cuda.is_available()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": cpus,
        "torch_threads": torch.get_num_threads(),
        "omp_num_threads_env": os.environ.get("OMP_NUM_THREADS"),
        "cuda": torch.cuda.get_device_name(0) if cuda else None,
        "versions": {p: _version(p) for p in ("torch", "torch-geometric", "lightning", "dvc", "dvclive", "numpy", "graphqa")},
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


# ---------------------------------------------------------------- the data set


@dataclass(frozen=True)
class Dataset:
    """The demo graphs as files (the baseline reads these) and packed (our data path)."""

    root: Path
    graphs: Path
    labels: Path
    schema: Path
    packed: Path
    num_graphs: int
    prepare_s: dict[str, float]


def prepare_dataset(workdir: Path, targets: int, decoys: int, seed: int = 222) -> Dataset:
    """Demo graphs + schema + packed stores under ``workdir/demo`` (reused when already complete)."""
    from graphqa.data.discover import write_schema_outputs
    from graphqa.data.pack import pack_dataset
    from graphqa.demo.generate import generate_demo

    root = workdir / f"demo-{targets}x{decoys}-{seed}"
    graphs, labels, schema_dir, packed = root / "graphs", root / "labels", root / "schema", root / "packed"
    done = root / "ready.json"
    if done.is_file():
        info = json.loads(done.read_text())
        return Dataset(root, graphs, labels, schema_dir / "feature_metadata.json", packed, info["graphs"],
                       info["prepare_s"])
    times: dict[str, float] = {}
    start = time.perf_counter()
    summary_ = generate_demo(root, targets=targets, decoys=decoys, seed=seed)
    times["demo_s"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    write_schema_outputs(graphs, labels, schema_dir, min_coverage=0.0)
    times["schema_s"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    pack_dataset(schema_dir / "feature_metadata.json", packed, graphs_dir=graphs, labels_dir=labels)
    times["pack_s"] = round(time.perf_counter() - start, 2)
    done.write_text(json.dumps({"graphs": summary_.graphs, "prepare_s": times}))
    return Dataset(root, graphs, labels, schema_dir / "feature_metadata.json", packed, summary_.graphs, times)


def default_params(*overrides: str):  # noqa: ANN201 - graphqa.config.Params
    """The committed default composition (``params/config.yaml``) with ``KEY=VALUE`` overrides, validated."""
    from graphqa.compose import composed
    from graphqa.config import params_from_dict

    return params_from_dict(composed([], list(overrides), config_dir=ROOT / "params"))


def baseline_dataset(store: Any) -> Any:
    """The TopoQA-style data path over the same graphs: one ``torch.load`` of a PyG ``Data`` per graph per epoch."""
    import torch
    from torch.utils.data import Dataset as TorchDataset
    from torch_geometric.data import Data
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import GlobalStorage

    allowed = [Data, DataEdgeAttr, DataTensorAttr, GlobalStorage]

    class PerFileGraphs(TorchDataset):
        """Item ``i``: ``torch.load`` of graph file ``i`` (safe: weights_only with PyG's classes allowed)."""

        def __init__(self) -> None:
            self.files = list(store.graph_files)
            self.y = store.y.clone()
            self.target = store.target_index.clone()

        def __len__(self) -> int:
            return len(self.files)

        def __getitem__(self, i: int) -> Data:
            with torch.serialization.safe_globals(allowed):
                graph = torch.load(self.files[i], map_location="cpu", weights_only=True)
            return Data(x=graph.x, edge_index=graph.edge_index, edge_attr=graph.edge_attr,
                        y=self.y[i : i + 1], target=self.target[i : i + 1], index=torch.tensor([i]))

    return PerFileGraphs()

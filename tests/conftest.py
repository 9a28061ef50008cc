"""Shared fixtures: a small demo dataset and its schema + packed stores, made once per session."""

from __future__ import annotations

import signal
from dataclasses import dataclass
from pathlib import Path

import pytest

# A shell's background job starts with SIGINT ignored and its children inherit that, so the tests that press
# Ctrl-C on a child process would see nothing happen. Children get the default, as from a terminal.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

DEMO_TARGETS = 8
DEMO_DECOYS = 16
DEMO_SEED = 222


@dataclass(frozen=True)
class PackedDemo:
    """The session's demo dataset after the schema and pack stages (treat as read-only)."""

    data_dir: Path  # graphs/, labels/, demo.json
    schema_path: Path  # <schema_dir>/feature_metadata.json
    coverage_path: Path  # <schema_dir>/dataset_coverage.json
    packed_dir: Path  # train/, val/, test/, feature_metadata.json


@pytest.fixture(autouse=True)
def scratch_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Resume state of runs started in-process goes to a per-test temp dir, never the repository's .graphqa/."""
    folder = tmp_path_factory.mktemp("scratch")
    monkeypatch.setenv("GRAPHQA_SCRATCH", str(folder))
    return folder


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (where params.yaml and dvc.yaml live)."""
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo dataset (8 targets x 16 decoys: train 96, val 16, test 16 graphs); read-only by convention."""
    from graphqa.demo.generate import generate_demo

    out = tmp_path_factory.mktemp("demo") / "data"
    generate_demo(out, targets=DEMO_TARGETS, decoys=DEMO_DECOYS, seed=DEMO_SEED, workers=1)
    return out


@pytest.fixture(scope="session")
def packed_demo(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> PackedDemo:
    """``demo_dir`` run through the real schema and pack stages (library calls) into a temp dir."""
    from graphqa.data.discover import write_schema_outputs
    from graphqa.data.pack import pack_dataset
    from graphqa.data.schema import DATASET_COVERAGE, FEATURE_METADATA

    artifacts = tmp_path_factory.mktemp("artifacts")
    schema_dir = artifacts / "schema"
    write_schema_outputs(demo_dir / "graphs", demo_dir / "labels", schema_dir, min_coverage=0.95)
    pack_dataset(schema_dir / FEATURE_METADATA, artifacts / "packed")
    return PackedDemo(
        data_dir=demo_dir,
        schema_path=schema_dir / FEATURE_METADATA,
        coverage_path=schema_dir / DATASET_COVERAGE,
        packed_dir=artifacts / "packed",
    )

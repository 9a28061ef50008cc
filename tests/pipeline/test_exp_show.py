"""`dvc exp show` leads with the headline: the column order of the real CLI's table (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import csv
import io
import subprocess

import pytest

from graphqa.config import load_params
from graphqa.evaluation.exp_metrics import GIVEN_MODEL_KEY, headline_columns
from tests.pipeline.conftest import BIN, Project

pytestmark = pytest.mark.slow

# The columns `dvc exp show --csv` writes before any metric.
EXPERIMENT_COLUMNS = {"Experiment", "rev", "typ", "Created", "parent", "State", "Executor"}


@pytest.fixture(scope="module")
def shown(ci_project: Project) -> tuple[list[str], list[dict[str, str]]]:
    """`dvc exp show --csv` after one more experiment (another bootstrap seed: evaluate and score_model rerun)."""
    ci_project.dvc("exp", "run", "--temp", "-n", "other-bootstrap", "-S", "profile=ci_fast",
                   "-S", "evaluate.bootstrap_seed=8")
    text = ci_project.dvc("exp", "show", "--csv").stdout
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def test_headline_columns_come_first_then_profiles(ci_project: Project, shown) -> None:
    header, rows = shown
    first_metric = next(i for i, name in enumerate(header) if name not in EXPERIMENT_COLUMNS)
    headline = headline_columns(load_params(ci_project.root / "params.yaml").evaluate.hit_thresholds)
    assert header[first_metric:first_metric + len(headline)] == headline, header[:30]
    # then score_model's figures (the same set, under their own prefix), then the applied profiles
    after = header[first_metric + len(headline):]
    given = [f"{GIVEN_MODEL_KEY}.{name}" for name in headline if name != "final_candidate"]
    assert after[:len(given)] == given, after[:20]
    assert after[len(given)].startswith("profiles."), after[:20]
    # the per-run summaries and the full headline are outputs, not columns
    detail = {"intervals", "references", "paired", "seed_spread", "bootstrap", "sweep_winner", "phase1", "status"}
    assert not [name for name in header if "summary.json" in name or name.split(".")[0] in detail], header
    experiment = next(r for r in rows if r["Experiment"] == "other-bootstrap")
    assert experiment["final_candidate"]
    # score_model scores the exported final model: the same figure
    assert float(experiment["test_spearman"]) == pytest.approx(float(experiment[f"{GIVEN_MODEL_KEY}.test_spearman"]))


def test_first_120_characters_show_the_headline(ci_project: Project, shown) -> None:
    """Plain `dvc exp show` (no flags) as a 120-column terminal shows it through the pager (`less -S`).

    DVC renders the full-width table for its pager (and when piped); the screen shows the first
    120 characters of each line.
    """
    table = subprocess.run([str(BIN / "dvc"), "exp", "show"], cwd=ci_project.root,
                           env={**ci_project.env, "COLUMNS": "120"}, capture_output=True, text=True, timeout=300,
                           check=True, stdin=subprocess.DEVNULL).stdout
    header = next(line for line in table.splitlines() if "Experiment" in line)
    assert header.split()[:5] == ["Experiment", "Created", "final_candidate", "test_spearman",
                                  "test_ranking_loss"], header[:200]
    assert header.index("test_ranking_loss") + len("test_ranking_loss") <= 120, header[:200]

"""DVC stage ``schema``: discover the feature schema and the dataset coverage.

Writes ``<out>/feature_metadata.json`` and ``<out>/dataset_coverage.json``;
reads ``data.min_coverage`` and the graph size limits ``data.max_nodes``,
``data.max_edges``, ``data.max_graph_bytes`` from params.yaml.

Example: python stages/schema.py --graphs data/graphs --labels data/labels --out artifacts/schema
"""

from __future__ import annotations

import argparse

import _guard  # noqa: F401 - first: one instruction, not a traceback, when this python lacks graphqa
from graphqa.stage import run_stage


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", default="data/graphs", help="graph directory (<TARGET>/<MODEL>.pt or flat)")
    parser.add_argument("--labels", default="data/labels", help="directory of train/val/test.csv")
    parser.add_argument("--out", default="artifacts/schema", help="output directory")
    parser.add_argument("--params", default="params.yaml", help="params file (data.min_coverage)")
    args = parser.parse_args(argv)

    def body() -> None:
        from graphqa.config import load_params
        from graphqa.data.discover import write_schema_outputs
        from graphqa.data.graph import GraphLimits
        from graphqa.data.progress import progress_bar

        params = load_params(args.params)
        with progress_bar("schema: reading graphs") as progress:
            write_schema_outputs(args.graphs, args.labels, args.out, params.data.min_coverage, progress,
                                 limits=GraphLimits.from_params(params.data))

    run_stage("schema", body)


if __name__ == "__main__":
    main()

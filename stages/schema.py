"""DVC stage ``schema``: discover the feature schema and the dataset coverage.

Writes ``<out>/feature_metadata.json`` and ``<out>/dataset_coverage.json``;
reads ``data.min_coverage`` from params.yaml.

Example: python stages/schema.py --graphs data/graphs --labels data/labels --out artifacts/schema
"""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", default="data/graphs", help="graph directory (<TARGET>/<MODEL>.pt or flat)")
    parser.add_argument("--labels", default="data/labels", help="directory of train/val/test.csv")
    parser.add_argument("--out", default="artifacts/schema", help="output directory")
    parser.add_argument("--params", default="params.yaml", help="params file (data.min_coverage)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    from graphqa.config import ParamsError, load_params
    from graphqa.data.discover import write_schema_outputs
    from graphqa.data.errors import DataError
    from graphqa.data.progress import progress_bar

    try:
        params = load_params(args.params)
        with progress_bar("schema: reading graphs") as progress:
            write_schema_outputs(args.graphs, args.labels, args.out, params.data.min_coverage, progress)
    except (DataError, ParamsError, OSError) as exc:
        logging.getLogger("schema").error("%s", exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

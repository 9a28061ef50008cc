"""DVC stage ``pack``: one contiguous, memory-mappable store per split.

Writes ``<out>/{train,val,test}/`` and ``<out>/feature_metadata.json``. Graphs
and labels are those the schema was discovered on (its ``sources``), unless
``--graphs`` / ``--labels`` say otherwise.

Example: python stages/pack.py --schema artifacts/schema/feature_metadata.json --out artifacts/packed
"""

from __future__ import annotations

import argparse

import _guard  # noqa: F401 - first: one instruction, not a traceback, when this python lacks graphqa
from graphqa.stage import run_stage


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", default="artifacts/schema/feature_metadata.json", help="schema stage output")
    parser.add_argument("--out", default="artifacts/packed", help="output directory")
    parser.add_argument("--graphs", default=None, help="graph directory (default: the schema's sources.graphs)")
    parser.add_argument("--labels", default=None, help="label directory (default: the schema's sources.labels)")
    args = parser.parse_args(argv)

    def body() -> None:
        from graphqa.data.pack import pack_dataset
        from graphqa.data.progress import progress_bar

        with progress_bar("pack: writing stores") as progress:
            pack_dataset(args.schema, args.out, graphs_dir=args.graphs, labels_dir=args.labels, progress=progress)

    run_stage("pack", body)


if __name__ == "__main__":
    main()

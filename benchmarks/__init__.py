"""Reproducible performance measurements of graphqa against the TopoQA-style baseline (issue 7).

``make bench`` (``python -m benchmarks``) runs every group and writes
``benchmarks/results/latest.json`` and ``latest.md``; ``--quick`` is a smoke
run on tiny sizes. One module per measurement group:

* :mod:`benchmarks.data_path` - per-file ``torch.load`` + PyG ``DataLoader`` vs the packed store
* :mod:`benchmarks.train_step` - graphs/s of the default network's training step (CPU; GPU when present)
* :mod:`benchmarks.epoch` - one Lightning epoch, our data path vs the baseline's; the real training path
* :mod:`benchmarks.pipeline_overhead` - no-op ``dvc repro``, ``dvc exp show``, stage start-up
* :mod:`benchmarks.scaling` - pack time and memory at 1k / 10k / 100k graphs, loader memory over epochs
* :mod:`benchmarks.report` - the issue's targets checked against the figures, the markdown table

These are measurements, not tests: nothing here asserts a timing.
"""

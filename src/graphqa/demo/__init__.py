"""The deterministic synthetic demo dataset (``graphqa data demo``, ``make repro``).

Synthetic two-chain complexes and decoys (``complexes``), their DockQ against
the native (``dockq``), interface graphs with TopoQA-shaped features
(``interface_features``), and the dataset writer (``generate``). The pipeline
never imports this package: it reads the files it writes.
"""

"""Scoring graphs with trained networks, without Lightning.

``checkpoint``: safe reading and the one place a network is built from a
checkpoint; ``predictor``: :class:`Predictor` (load, predict, ensemble mean,
export), shared by the evaluate stage and ``graphqa predict``; ``graphs``:
score a directory of graph files; ``device``: where inference runs.
"""

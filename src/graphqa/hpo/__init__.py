"""Hyper-parameter search inside DVC experiments: an Optuna study whose trials are ``dvc exp`` runs.

Nothing is imported here: the training stage imports :mod:`graphqa.hpo.pruning` alone (its code deps stay small),
and Optuna, an optional extra, is imported only where a study is used (docs/ARCHITECTURE.md,
"Hyper-parameter search").
"""

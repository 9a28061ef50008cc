"""Scoring predictions against labels.

``metrics``: the metric set (pure functions); ``selection``: the selection
score that ranks runs; ``predictions_file``: reading a predictions CSV (ours
and TopoQA's layouts); ``report``: metrics of one prediction set, pooled and
per target, and the predictions file we write; ``candidates``: the evaluate
stage (score the pipeline's candidates, choose the final model, export it).
"""

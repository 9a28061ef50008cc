"""One training run: module, losses, trainer factory, callbacks, loggers, checkpoints.

Submodules are imported where needed (``graphqa.training.run.train_run``);
this package imports nothing heavy on its own so stages that do not train stay light.
"""

"""The demo dataset's default size and seed (no heavy imports: the CLI reads them at start-up)."""

# 90 targets (60 / 15 / 15 by split) of 13 decoys: about the 1,200 graphs of the earlier 30 x 40 demo,
# with enough test targets (15) to estimate a ranking loss.
DEFAULT_TARGETS = 90
DEFAULT_DECOYS = 13
DEFAULT_SEED = 222

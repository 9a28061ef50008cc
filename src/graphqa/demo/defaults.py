"""The demo dataset's default size and seed (no heavy imports: the CLI reads them at start-up)."""

# 90 targets (60 / 15 / 15 by split) of 13 decoys, with enough test targets (15) to estimate a ranking loss.
# Test targets get pools of 40 decoys, so a top-10 pick is a real choice (with 13, the top 10 held nearly
# every acceptable decoy and hit counts equalled the oracle's); train and val keep 13 each (training cost).
DEFAULT_TARGETS = 90
DEFAULT_DECOYS = 13
DEFAULT_TEST_DECOYS = 40
DEFAULT_SEED = 222

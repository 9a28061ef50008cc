"""Imported first by every stage script: this ``python`` must be one that imports graphqa.

dvc.yaml's commands run ``python stages/<name>.py``, whichever ``python`` is first on PATH; with the project's
environment not activated that is the system Python, which lacks graphqa. Then the stage exits at once with one
instruction instead of a traceback, before it does anything (docs/ARCHITECTURE.md, "Pipeline"; graphqa cannot say
it itself, as it is what is missing). This file sits beside the scripts, first on their ``sys.path``.
"""

import sys

try:
    import graphqa  # noqa: F401
except ModuleNotFoundError as missing:
    if missing.name != "graphqa":
        raise
    sys.exit(f"{sys.executable} cannot import graphqa: activate the project's environment (source .venv/bin/activate; "
             "make repro creates it) and run the command again; DVC removed this stage's outputs before running it "
             "(`dvc checkout` restores them)")

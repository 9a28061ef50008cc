"""Finding graph files and knowing which target each model belongs to.

Layouts: ``graphs/<TARGET>/<MODEL>.pt`` (nested, as the builders write it) or
``graphs/<MODEL>.pt`` (flat). The target of a model is, in order: the labels'
``target`` column, the graph's parent folder, the model name before its first
``_``.

Discovery follows symlinked folders (``graphs/15JB -> /elsewhere/15JB``), each
real folder once, so a link back up the tree cannot loop. Model and folder
names are Unicode-normalised (NFC), as label names are, so a name saved on
macOS (NFD) matches the same name typed elsewhere.
"""

from __future__ import annotations

import logging
import os
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from graphqa.data.errors import DataError

log = logging.getLogger(__name__)

GRAPH_SUFFIX = ".pt"
GRAPH_METADATA = "graph_metadata.json"


def target_from_model_name(model: str) -> str:
    """The target a model name implies: the part before its first ``_`` (the whole name if none)."""
    return model.split("_", 1)[0]


@dataclass(frozen=True)
class GraphFile:
    """One ``.pt`` file under the graphs directory."""

    path: Path
    model: str  # file stem
    folder: str | None  # parent folder relative to the graphs root (None: flat layout)

    @property
    def key(self) -> str:
        """``TARGET/MODEL`` as graph_metadata.json keys it (``MODEL`` in a flat layout)."""
        return f"{self.folder}/{self.model}" if self.folder else self.model

    @property
    def target(self) -> str:
        """Target implied by the file's place: its parent folder, else the model-name prefix."""
        return self.folder.rsplit("/", 1)[-1] if self.folder else target_from_model_name(self.model)


def find_graphs(graphs_dir: str | Path) -> list[GraphFile]:
    """All graph files under ``graphs_dir``, sorted by key (nested or flat layout).

    Raises :class:`DataError` if the directory is missing or holds no ``.pt`` file.
    """
    root = Path(graphs_dir)
    if not root.is_dir():
        raise DataError(f"{root}: graph directory not found; expected <TARGET>/<MODEL>.pt or <MODEL>.pt files")
    files = []
    for path in _walk_graph_files(root):
        rel_parent = nfc(path.parent.relative_to(root).as_posix())
        files.append(GraphFile(path=path, model=nfc(path.stem), folder=None if rel_parent == "." else rel_parent))
    if not files:
        raise DataError(f"{root}: no {GRAPH_SUFFIX} graph files found; expected <TARGET>/<MODEL>.pt or <MODEL>.pt")
    files.sort(key=lambda f: f.key)
    return files


def nfc(name: str) -> str:
    """``name`` in Unicode normal form C (labels and file names are compared in it)."""
    return unicodedata.normalize("NFC", name)


def _walk_graph_files(root: Path) -> Iterator[Path]:
    """``.pt`` files under ``root`` (hidden names skipped), following symlinked folders, each real folder once."""
    seen: set[tuple[int, int]] = set()
    for folder, subfolders, names in os.walk(root, followlinks=True):
        stat = os.stat(folder)
        if (stat.st_dev, stat.st_ino) in seen:  # a symlink back to a folder already walked
            log.warning("%s: links to a folder already read (%s); not read again", folder, Path(folder).resolve())
            subfolders[:] = []
            continue
        seen.add((stat.st_dev, stat.st_ino))
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if name.endswith(GRAPH_SUFFIX) and not name.startswith(".") and path.is_file():
                yield path


class GraphIndex:
    """Look up graph files by model name, resolving the same name in several target folders."""

    def __init__(self, files: list[GraphFile]) -> None:
        self.files = files
        self._by_model: dict[str, list[GraphFile]] = {}
        for f in files:
            self._by_model.setdefault(f.model, []).append(f)

    def __len__(self) -> int:
        return len(self.files)

    def find(self, model: str, target: str | None, where: str) -> GraphFile | None:
        """The graph of ``model`` (in ``target`` when given); ``None`` if there is none.

        ``where`` names the label row for the error raised when the choice is ambiguous.
        """
        candidates = self._by_model.get(model, [])
        if target is not None:  # a file in another target's folder is another model
            candidates = [f for f in candidates if f.folder is None or f.target == target]
        if len(candidates) > 1:
            want = target or target_from_model_name(model)
            preferred = [f for f in candidates if f.folder is not None and f.target == want]
            if len(preferred) == 1:
                return preferred[0]
            paths = ", ".join(str(f.path) for f in candidates)
            raise DataError(
                f"{where}: model {model!r} matches several graph files ({paths}); "
                "add a 'target' column to the labels to choose one"
            )
        return candidates[0] if candidates else None

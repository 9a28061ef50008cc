"""Finding graph files and knowing which target each model belongs to.

Layouts: ``graphs/<TARGET>/<MODEL>.pt`` (nested, as the builders write it) or
``graphs/<MODEL>.pt`` (flat). The target of a model is, in order: the labels'
``target`` column, the graph's parent folder, the model name before its first
``_``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from graphqa.data.errors import DataError

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
    for path in root.rglob(f"*{GRAPH_SUFFIX}"):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        rel_parent = path.parent.relative_to(root).as_posix()
        files.append(GraphFile(path=path, model=path.stem, folder=None if rel_parent == "." else rel_parent))
    if not files:
        raise DataError(f"{root}: no {GRAPH_SUFFIX} graph files found; expected <TARGET>/<MODEL>.pt or <MODEL>.pt")
    files.sort(key=lambda f: f.key)
    return files


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

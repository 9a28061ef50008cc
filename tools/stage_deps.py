"""The project files each DVC stage's script runs: the import closure of ``stages/<name>.py`` in ``src/graphqa``.

A stage's code deps in ``dvc.yaml`` must be exactly this set, so editing any
module a stage runs makes ``dvc status`` list it, and editing anything else
does not (docs/ARCHITECTURE.md, "Dependency tracking"). ``tests/pipeline/test_stage_deps.py``
compares both ways.

Imports are read statically (``ast``), function-level imports included and
``if TYPE_CHECKING:`` blocks excluded. Two dynamic forms are followed too: a
package's lazy ``_EXPORTS = {"Name": "graphqa.module"}`` table (``from
graphqa.data import FeatureSchema`` runs ``graphqa.data.schema`` only), and
``"graphqa.module:Class"`` strings (the model registry). A package whose every
module is in the closure is listed as its directory.

    python -m tools.stage_deps            # print each stage script's deps
    python -m tools.stage_deps --write    # rewrite the code deps of dvc.yaml (and the example's) to match
"""

from __future__ import annotations

import ast
import re
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
# dvc.yaml files whose stages run stages/*.py (the example's runs from the project's root: wdir ..)
PIPELINES = (ROOT / "dvc.yaml", ROOT / "examples" / "real_structures" / "dvc.yaml")
_ENTRY = re.compile(r"^(graphqa(?:\.\w+)+):\w+$")


def module_file(name: str) -> Path | None:
    """``graphqa.data.store`` → ``src/graphqa/data/store.py`` (or the package's ``__init__.py``)."""
    base = SRC.joinpath(*name.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:``."""
    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            stack.append(child)
    return out


@cache
def lazy_exports(package: str) -> dict[str, str]:
    """A package's ``_EXPORTS`` table (name → module), if it has one."""
    init = module_file(package)
    if init is None or init.name != "__init__.py":
        return {}
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_EXPORTS" for t in node.targets):
            return ast.literal_eval(node.value)
    return {}


def _with_parents(name: str) -> list[str]:
    """``graphqa.data.store`` → the packages whose ``__init__`` runs first, then the module."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


@cache
def direct_imports(path: Path) -> frozenset[str]:
    """graphqa modules that running ``path`` imports."""
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "graphqa")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "graphqa":
            found.add(node.module)
            exports = lazy_exports(node.module)
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if module_file(sub) is not None:
                    found.add(sub)
                elif alias.name in exports:
                    found.add(exports[alias.name])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and (m := _ENTRY.match(node.value)):
            found.add(m.group(1))
    return frozenset(p for name in found for p in _with_parents(name))


def local_modules(script: Path) -> list[Path]:
    """Modules beside ``script`` that it imports as ``import name`` (``import _guard``; a script's folder is first on
    its sys.path). ``from name import …`` is not followed: the stages do not use it."""
    names = {alias.name for node in _runtime_nodes(ast.parse(script.read_text())) if isinstance(node, ast.Import)
             for alias in node.names}
    return sorted(script.parent / f"{name}.py" for name in names if (script.parent / f"{name}.py").is_file())


def closure(script: Path) -> set[Path]:
    """Every ``src/graphqa`` file that running ``script`` executes."""
    seen: set[Path] = set()
    todo = [script, *local_modules(script)]
    while todo:
        for name in direct_imports(todo.pop()):
            path = module_file(name)
            if path is not None and path not in seen:
                seen.add(path)
                todo.append(path)
    return seen


def compress(files: set[Path]) -> list[str]:
    """Repo-relative deps: a package's directory where every module under it is in ``files``, else the files."""
    out = set(files)
    for package in sorted({f.parent for f in files}, key=lambda p: -len(p.parts)):  # deepest first
        modules = {p for p in package.rglob("*.py") if "__pycache__" not in p.parts}
        if modules <= files:
            out = {f for f in out if package not in f.parents} | {package}
    return sorted(p.relative_to(ROOT).as_posix() for p in out)


def stage_code_deps(script: Path) -> list[str]:
    """The code deps ``dvc.yaml`` must list for ``script``: the script, the modules beside it it imports, then
    its closure."""
    beside = [path.relative_to(ROOT).as_posix() for path in local_modules(script)]
    return [script.relative_to(ROOT).as_posix(), *beside, *compress(closure(script))]


def stage_scripts() -> list[Path]:
    """``stages/<name>.py``, without the modules they share (``stages/_guard.py``)."""
    return sorted(p for p in (ROOT / "stages").glob("*.py") if not p.name.startswith("_"))


def rewrite_dvc_yaml(path: Path = ROOT / "dvc.yaml") -> bool:
    """Replace each stage's code deps (``stages/…``, ``src/…`` lines) with its closure; True if changed.

    Text-level, so comments and layout stay as written.
    """
    lines = path.read_text().splitlines(keepends=True)
    out: list[str] = []
    i = 0
    script = None
    while i < len(lines):
        line = lines[i]
        if (m := re.search(r"python (stages/\w+\.py)", line)) is not None:
            script = ROOT / m.group(1)
        stripped = line.strip()
        if script is not None and stripped.startswith("- ") and stripped[2:].startswith(("stages/", "src/")):
            indent = line[: len(line) - len(line.lstrip())]
            while i < len(lines) and lines[i].strip()[2:].startswith(("stages/", "src/")):
                i += 1
            out.extend(f"{indent}- {dep}\n" for dep in stage_code_deps(script))
            continue
        out.append(line)
        i += 1
    text = "".join(out)
    changed = text != path.read_text()
    if changed:
        path.write_text(text)
    return changed


def main() -> None:
    if sys.argv[1:] == ["--write"]:
        for path in PIPELINES:
            name = path.relative_to(ROOT)
            print(f"{name} updated" if rewrite_dvc_yaml(path) else f"{name} already lists the closures")
        return
    for script in stage_scripts():
        print(f"{script.name}:")
        for dep in stage_code_deps(script):
            print(f"  - {dep}")


if __name__ == "__main__":
    main()

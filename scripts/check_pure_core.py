"""The pure core imports no I/O framework: ``make lint`` runs this.

Ranking (routing's stage modules), panel selection, the batch solver, scoring and the FAISS
wrapper must import neither asyncpg, FastAPI, Starlette nor httpx, directly or through any
convene module they import when imported (followed transitively, by AST, without importing
anything; imports inside functions and under ``if TYPE_CHECKING:`` do not run at import).

    python scripts/check_pure_core.py      # exit 1 and one line per offence
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "services" / "matcher" / "src", ROOT / "libs" / "common" / "src"]
BANNED = ("asyncpg", "fastapi", "starlette", "httpx")
PURE_CORE = (
    "convene_matcher.routing.frame",
    "convene_matcher.routing.retrieval",
    "convene_matcher.routing.relevance",
    "convene_matcher.routing.filters",
    "convene_matcher.routing.scores",
    "convene_matcher.routing.explain",
    "convene_matcher.routing.pipeline",
    "convene_matcher.routing.names",
    "convene_matcher.routing.refs",
    "convene_matcher.panel",
    "convene_matcher.panel.selection",
    "convene_matcher.batch.solver",
    "convene_matcher.scoring",
    "convene_matcher.scoring.config",
    "convene_matcher.scoring.lexical",
    "convene_matcher.scoring.relevance",
    "convene_matcher.index.evidence_index",
)


def module_file(module: str, sources: list[Path] = SOURCES) -> Path | None:
    parts = module.split(".")
    for source in sources:
        package = source.joinpath(*parts, "__init__.py")
        if package.exists():
            return package
        plain = source.joinpath(*parts[:-1], parts[-1] + ".py")
        if plain.exists():
            return plain
    return None


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (never run) and inside a
    module's ``__getattr__`` (a package's lazy attributes, imported on first use)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            continue
        yield node
        yield from _runtime_nodes(node)


def imports_of(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import run when the module is imported."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield name, node.lineno
            if name.startswith("convene_"):
                for alias in node.names:  # "from package import module"
                    yield f"{name}.{alias.name}", node.lineno


def parents(module: str) -> list[str]:
    """A module's packages (importing a.b.c runs a/__init__ and a/b/__init__ first)."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def offences(
    roots: tuple[str, ...] = PURE_CORE, sources: list[Path] = SOURCES, base: Path = ROOT
) -> list[str]:
    found: list[str] = []
    for root in roots:
        chain: dict[str, str | None] = {root: None}
        todo = [root]
        while todo:
            module = todo.pop()
            path = module_file(module, sources)
            if path is None:
                continue
            for imported, line in imports_of(module, path):
                top = imported.split(".")[0]
                if top in BANNED:
                    via = [module]
                    while (parent := chain.get(via[-1])) is not None:
                        via.append(parent)
                    route = " <- ".join(via)
                    found.append(f"{path.relative_to(base)}:{line}: imports {imported} ({route})")
                    continue
                if not imported.startswith("convene_"):
                    continue
                for candidate in [*parents(imported), imported]:
                    if candidate not in chain and module_file(candidate, sources) is not None:
                        chain[candidate] = module
                        todo.append(candidate)
    return sorted(set(found))


def main() -> int:
    found = offences()
    for line in found:
        print(line)  # noqa: T201
    if found:
        print(f"{len(found)} import(s) of {', '.join(BANNED)} in the pure core")  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The layers of ``app/`` only ever import downwards.

From the bottom: the base (configuration, extensions, ids, error types, hashing), the
models, the rules (the acting party and ``policy``), the outbox, the services, the
seeding, and on top the doors people and programs come in by (pages, the JSON API, the
command line). A module may import its own layer or any below it, never one above: the
services never reach into the web or the API, ``policy`` never into the services, and
the models into nothing of the app but the base. Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"

# Lowest first. A module belongs to the first entry that is it or contains it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "base",
        (
            "app.config",
            "app.extensions",
            "app.ids",
            "app.database",
            "app.errors",
            "app.credentials",
            "app.startup",
        ),
    ),
    ("models", ("app.models",)),
    ("cache", ("app.tenant_cache",)),  # what processes keep of a tenant, under its stamp
    ("rules", ("app.actors", "app.policy")),
    ("mail", ("app.mail",)),
    ("services", ("app.services",)),
    ("seed", ("app.seed",)),
    ("doors", ("app.web", "app.api", "app.cli")),
    ("factory", ("app",)),
]


def layer_of(module: str) -> int:
    for rank, (_name, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes if p != "app"):
            return rank
    if module == "app":
        return len(LAYERS) - 1
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every import of an ``app`` module in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path).split(".") if path.name == "__init__.py" else None
    here = package or module_name(path).split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            # `from app.services import orgs` imports the module app.services.orgs.
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.append((node.lineno, candidate if _is_module(candidate) else target))
    return [(line, name) for line, name in found if name == "app" or name.startswith("app.")]


def _is_module(dotted: str) -> bool:
    relative = Path(*dotted.split(".")[1:])
    return (APP / relative).with_suffix(".py").exists() or (APP / relative / "__init__.py").exists()


SOURCES = sorted(APP.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=[module_name(p) for p in SOURCES])
def test_imports_go_down_only(path: Path):
    importer = module_name(path)
    rank = layer_of(importer)
    upward = [
        f"line {line}: {name} ({LAYERS[layer_of(name)][0]})"
        for line, name in imported_modules(path)
        if layer_of(name) > rank
    ]
    assert not upward, f"{importer} ({LAYERS[rank][0]}) imports from above: {upward}"


def test_models_import_only_the_base():
    for path in sorted((APP / "models").rglob("*.py")):
        for line, name in imported_modules(path):
            assert layer_of(name) <= layer_of("app.models"), f"{path.name}:{line} imports {name}"


def test_an_upward_import_is_caught(tmp_path):
    """The walk itself works: a service importing the web layer is found."""
    fake = APP / "services" / "_layer_probe.py"
    fake.write_text("from app.web.scope import here\n")
    try:
        [(line, name)] = imported_modules(fake)
        assert (line, name) == (1, "app.web.scope")
        assert layer_of(name) > layer_of(module_name(fake))
    finally:
        fake.unlink()

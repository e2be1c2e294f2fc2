"""The package's folders say what a module may import (docs/architecture.md): the core is plain Python that any
server or tool can use, Rasa's parts stay in rasa_server/ and channels/, and nothing imports the operations."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import REPO

SHARED = {"liptwitch.settings", "liptwitch.vocabulary"}
RASA = {"rasa", "rasa_sdk", "sanic", "tensorflow", "socketio", "engineio"}
# What each folder's modules may import: the project's packages, and whether Rasa's.
ALLOWED = {
    "liptwitch/core": ({"liptwitch.core", *SHARED}, False),
    "liptwitch/tools": ({"liptwitch.core", "liptwitch.tools", *SHARED}, False),
    "liptwitch/rasa_server": ({"liptwitch.core", "liptwitch.rasa_server", *SHARED}, True),
    "liptwitch/channels": ({"liptwitch.core", "liptwitch.channels", "liptwitch.rasa_server", *SHARED}, True),
    "liptwitch/operations": ({"liptwitch.operations", *SHARED}, True),
    "actions": ({"liptwitch.core", "actions", *SHARED}, True),
}


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "liptwitch":  # from liptwitch import settings
                names |= {f"liptwitch.{alias.name}" for alias in node.names}
    return names


def modules(folder: str) -> list[Path]:
    return sorted((REPO / folder).rglob("*.py"))


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_each_folder_imports_only_what_its_role_allows(folder):
    project, rasa_allowed = ALLOWED[folder]
    wrong = {}
    for path in modules(folder):
        for name in imports(path):
            top = name.split(".")[0]
            if top in ("liptwitch", "actions"):
                package = name if name in SHARED or name == "liptwitch" else ".".join(name.split(".")[:2])
                if top == "actions":
                    package = "actions"
                if package != "liptwitch" and package not in project:
                    wrong.setdefault(str(path.relative_to(REPO)), []).append(name)
            elif top in RASA and not rasa_allowed:
                wrong.setdefault(str(path.relative_to(REPO)), []).append(name)
    assert wrong == {}


def test_settings_and_vocabulary_import_nothing_of_the_project():
    for name in ("settings", "vocabulary"):
        assert not {n for n in imports(REPO / "liptwitch" / f"{name}.py") if n.startswith("liptwitch")}


def test_every_module_is_in_a_folder_that_says_its_role():
    loose = {p.name for p in (REPO / "liptwitch").glob("*.py")}
    assert loose == {"__init__.py", "settings.py", "vocabulary.py"}


def reads_a_variable(node: ast.AST) -> bool:
    """`os.environ.get(...)`, `os.environ[...]` or `os.getenv(...)` (passing the whole environment on, to a child
    process or to a function that reads it through the settings, is not reading a variable)."""
    def is_environ(value: ast.AST) -> bool:
        return isinstance(value, ast.Attribute) and value.attr == "environ"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return (node.func.attr == "get" and is_environ(node.func.value)) or node.func.attr == "getenv"
    return isinstance(node, ast.Subscript) and is_environ(node.value) and isinstance(node.ctx, ast.Load)


def test_the_environment_is_read_only_in_the_settings_module():
    readers = [f"{path.relative_to(REPO)}:{node.lineno}"
               for path in [*modules("liptwitch"), *modules("actions")] if path.name != "settings.py"
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if reads_a_variable(node)]
    assert readers == []


@pytest.mark.parametrize("path", [p for folder in ("liptwitch", "actions") for p in modules(folder)],
                         ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_is_a_house_of_many_rooms(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 450, f"{lines} lines: split it by what its parts do"

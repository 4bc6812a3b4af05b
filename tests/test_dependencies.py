"""course_lib imports only what pyproject.toml declares (or the standard library): a student who
runs ``pip install .`` gets every package the library needs, and nothing is imported by luck
because a test tool happened to be installed."""
import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the import name of each distribution whose name differs from it
IMPORT_NAMES = {"scikit-learn": "sklearn", "pillow": "PIL", "ipython": "IPython"}


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower() for spec in project["dependencies"]}
    return {IMPORT_NAMES.get(name, name.replace("-", "_")) for name in names}


def imported(path: Path) -> set[str]:
    """Top-level names of the absolute imports in a file, anywhere in it (also inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_import_of_course_lib_is_declared_or_standard_library():
    allowed = declared() | set(sys.stdlib_module_names) | {"course_lib", "__future__"}
    undeclared = {}
    for path in sorted((ROOT / "course_lib").rglob("*.py")):
        missing = imported(path) - allowed
        if missing:
            undeclared[str(path.relative_to(ROOT))] = sorted(missing)
    assert not undeclared, f"declare these in pyproject.toml (or move the code to tools/): {undeclared}"


def test_the_declared_names_are_read_correctly():
    assert {"numpy", "matplotlib", "ipywidgets", "sklearn"} <= declared()

"""The appendix names the tests that prove each formulation and demonstrate each erratum: every
test it names must exist, so a renamed or deleted test cannot leave a dangling reference."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "book" / "appendix").glob("*.md"))
# Any file name, dotted ones included (a name like test_experiments.momentum.py must be caught too).
REFERENCE = re.compile(r"tests/([\w.]+?)\.py::(test_\w+)")


def references():
    found = []
    for page in PAGES:
        found += [(page.name, f, t) for f, t in REFERENCE.findall(page.read_text())]
    return found


def test_the_appendix_names_tests():
    pages = {page for page, _, _ in references()}
    assert {"errata.md", "formulations.md"} <= pages


@pytest.mark.parametrize("page, file, test", references(), ids=lambda x: x if isinstance(x, str) else None)
def test_every_named_test_exists(page, file, test):
    path = ROOT / "tests" / f"{file}.py"
    assert path.exists(), f"{page} names {path.name}, which does not exist"
    assert re.search(rf"^def {test}\(", path.read_text(), re.M), f"{page} names {file}.py::{test}, which does not exist"


def test_every_erratum_has_a_label_and_the_labels_are_unique():
    text = (ROOT / "book" / "appendix" / "errata.md").read_text()
    labels = re.findall(r"^\((err-[\w-]+|conv-[\w-]+)\)=$", text, re.M)
    assert len(labels) == len(set(labels)) and len(labels) >= 30
    headings = re.findall(r"^\((?:err|conv)-[\w-]+\)=\n### ", text, re.M)
    assert len(headings) == len(labels), "each label must be followed by its heading"


def test_the_reference_documents_every_public_module():
    """book/appendix/api.md renders each public module of course_lib with autodoc; a new module
    must be added there (one ``.. automodule::`` line) to appear in the site."""
    api = (ROOT / "book" / "appendix" / "api.md").read_text()
    documented = set(re.findall(r"^\.\. automodule:: ([\w.]+)$", api, re.M))
    package = ROOT / "course_lib"
    modules = set()
    for path in package.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if any(part.startswith("_") and part != "__init__" for part in parts):
            continue
        modules.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    assert modules - documented == set(), f"add these to book/appendix/api.md: {sorted(modules - documented)}"
    assert documented - modules == set(), f"api.md documents modules that do not exist: {sorted(documented - modules)}"

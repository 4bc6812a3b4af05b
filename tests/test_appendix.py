"""The appendix names the tests that prove each formulation and demonstrate each erratum: every
test it names must exist, so a renamed or deleted test cannot leave a dangling reference.

The course_lib reference (book/appendix/api.md, an index, and one page per group of modules in
book/appendix/api/) documents every public module once; each page says what its modules are for
and which chapters use them (chapters that do import them), and gives each module a contents
line naming every member autodoc shows."""
import ast
import importlib
import json
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


REFERENCE_INDEX = ROOT / "book" / "appendix" / "api.md"
REFERENCE_PAGES = sorted((ROOT / "book" / "appendix" / "api").glob("*.md"))
AUTOMODULE = re.compile(r"^\.\. automodule:: ([\w.]+)$", re.M)


def public_modules():
    modules = set()
    for path in (ROOT / "course_lib").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if any(part.startswith("_") and part != "__init__" for part in parts):
            continue
        modules.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def documented_members(name):
    """What autodoc's ``:members:`` shows of module ``name``: its ``__all__``, else the public
    functions and classes defined in it that have a docstring and the names documented with a
    ``#:`` comment."""
    module = importlib.import_module(name)
    if hasattr(module, "__all__"):
        return list(module.__all__)
    source = Path(module.__file__).read_text(encoding="utf-8")
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            obj = getattr(module, node.name)
            if obj.__doc__ and getattr(obj, "__module__", None) == name:
                names.append(node.name)
        elif isinstance(node, ast.Assign) and source.splitlines()[node.lineno - 2].lstrip().startswith("#:"):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return [n for n in names if not n.startswith("_")]


def module_sections(page):
    """{module: (its contents line or "", the page's line saying what it is for)} of a reference page."""
    text = page.read_text(encoding="utf-8")
    sections = {}
    parts = re.split(r"^``(course_lib[\w.]*)``\n\^+\n", text, flags=re.M)
    for name, body in zip(parts[1::2], parts[2::2]):
        contents = re.match(r"\s*\*\*Contents:\*\* (.*?)\n\n", body, re.S)
        summary = re.search(rf"^- {{py:mod}}`{re.escape(name)}`: (.*?)\n(?!  )", text, re.M | re.S)
        sections[name] = (contents.group(1) if contents else "", summary.group(1) if summary else None)
    return sections


def test_the_reference_documents_every_public_module_once():
    """The reference's pages (book/appendix/api.md and api/*.md) render each public module of
    course_lib with autodoc; a new module must be added to one of them (one ``.. automodule::``)."""
    documented = []
    for page in [REFERENCE_INDEX, *REFERENCE_PAGES]:
        documented += AUTOMODULE.findall(page.read_text(encoding="utf-8"))
    twice = sorted({m for m in documented if documented.count(m) > 1})
    assert not twice, f"documented on more than one page: {twice}"
    modules = public_modules()
    assert modules - set(documented) == set(), f"add these to a page of book/appendix/api/: {sorted(modules - set(documented))}"
    assert set(documented) - modules == set(), f"the reference documents modules that do not exist: {sorted(set(documented) - modules)}"


@pytest.mark.parametrize("page", REFERENCE_PAGES, ids=lambda p: p.stem)
def test_each_reference_page_lists_its_modules_and_their_contents(page):
    """Each page opens with a line per module (what it is for, which chapters use it) and gives each
    module a contents line that names every member autodoc shows, in autodoc's order."""
    sections = module_sections(page)
    assert sections and list(sections) == AUTOMODULE.findall(page.read_text(encoding="utf-8"))
    for name, (contents, summary) in sections.items():
        assert summary, f"{page.name}: no '- {{py:mod}}`{name}`: ...' line saying what it is for"
        listed = re.findall(rf":py:obj:`~{re.escape(name)}\.(\w+)`", contents)
        assert listed == documented_members(name), (
            f"{page.name}: the contents line of {name} lists {listed}, autodoc shows {documented_members(name)}")


def chapter_imports(chapter):
    """Every course_lib module a chapter imports, itself or through its own experiments/widgets/exercises module."""
    nb = json.loads((ROOT / "book" / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    for package in ("experiments", "widgets", "exercises"):
        path = ROOT / "course_lib" / package / f"{chapter}.py"
        if path.exists():
            code += "\n" + path.read_text(encoding="utf-8")
    found = set()
    for line in re.findall(r"^\s*(?:from course_lib[\w.]* import .*|import course_lib.*)$", code, re.M):
        base = re.match(r"\s*from (course_lib[\w.]*) import (.*)", line)
        if base:
            found.add(base.group(1))
            found |= {f"{base.group(1)}.{n}" for n in re.findall(r"(\w+)(?: as \w+)?", base.group(2))}
    return found


@pytest.mark.parametrize("page", REFERENCE_PAGES, ids=lambda p: p.stem)
def test_the_chapters_a_reference_page_names_use_the_module(page):
    for name, (_, summary) in module_sections(page).items():
        for chapter in re.findall(r"\{doc\}`/book/(\w+)`", summary or ""):
            assert name in chapter_imports(chapter), f"{page.name}: {name} is said to be used by {chapter}, which does not import it"


def test_the_reference_index_lists_every_page_once():
    text = REFERENCE_INDEX.read_text(encoding="utf-8")
    linked = re.findall(r"^- \{doc\}`api/([\w-]+)`: ", text, re.M)
    assert sorted(linked) == sorted(p.stem for p in REFERENCE_PAGES) and len(set(linked)) == len(linked), linked
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    in_toc = re.findall(r"file: book/appendix/api/([\w-]+)", toc)
    assert in_toc == linked, f"_toc.yml lists the reference's pages as {in_toc}, api.md as {linked}"

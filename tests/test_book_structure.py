"""The book's structure: every page is in the table of contents and every entry exists; every
chapter notebook carries clean stored outputs and meets the chapter standard of GUIDE.md."""
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
PAGE_SUFFIXES = {".md", ".ipynb"}


def toc_entries():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = [toc["root"]]

    def walk(items):
        for item in items or []:
            if "file" in item:
                entries.append(item["file"])
            walk(item.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return entries


def book_pages():
    return sorted(
        p for p in BOOK.rglob("*")
        if p.suffix in PAGE_SUFFIXES and ".ipynb_checkpoints" not in p.parts and "_ext" not in p.parts
    )


def chapters():
    return [p for p in book_pages() if p.suffix == ".ipynb"]


def test_every_toc_entry_exists():
    for entry in toc_entries():
        matches = [ROOT / f"{entry}{suffix}" for suffix in PAGE_SUFFIXES if (ROOT / f"{entry}{suffix}").exists()]
        assert len(matches) == 1, f"_toc.yml entry {entry!r} should match exactly one page, found {matches}"


def test_every_page_is_in_the_toc():
    listed = set(toc_entries())
    for page in book_pages():
        entry = str(page.relative_to(ROOT).with_suffix(""))
        assert entry in listed, f"{page.relative_to(ROOT)} is not in _toc.yml, so the site leaves it out"


def test_there_are_chapters():
    assert any(p.stem == "ewma" for p in chapters())


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.stem)
def test_notebook_outputs_are_stored_clean_and_in_order(path):
    notebook = json.loads(path.read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c["execution_count"] for c in code]
    assert None not in counts, "every code cell must be executed (make notebooks)"
    assert counts == list(range(1, len(code) + 1)), "cells must be run once, top to bottom, in a fresh kernel"
    for cell in code:
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"stored error output in {path.name}"
            text = "".join(output.get("text", "")) + json.dumps(output.get("data", {}).get("text/plain", ""))
            assert not re.search(r"0x[0-9a-f]{6,}", text), f"a memory address in a stored output: {text[:120]}"
            assert "Warning" not in text, f"a warning in a stored output of {path.name}: {text[:200]}"
        assert "execution" not in cell["metadata"], "timing metadata must not be stored"
    assert "application/vnd.jupyter.widget-state+json" in notebook["metadata"].get("widgets", {}), \
        "widget state must be stored so the website shows the widgets (make notebooks)"
    state = notebook["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert sorted(state) == [f"{i:032x}" for i in range(len(state))], \
        "widget model ids must be the fixed sequence tools/execute_notebooks.py writes (not random UUIDs)"


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.stem)
def test_chapter_meets_the_standard(path):
    """GUIDE.md section 4: two widgets or more, four exercises or more (two auto-checked), a summary."""
    notebook = json.loads(path.read_text())
    markdown = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
    code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    widget_outputs = sum(
        "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        for c in notebook["cells"] if c["cell_type"] == "code" for o in c["outputs"]
    )
    assert widget_outputs >= 2, f"{path.name}: {widget_outputs} widgets, the standard is two or more"
    exercises = re.findall(r"^```\{exercise\}", markdown, re.M)
    assert len(exercises) >= 4, f"{path.name}: {len(exercises)} exercises, the standard is four or more"
    solutions = re.findall(r"^```\{solution(?:-start)?\}", markdown, re.M)
    assert len(solutions) == len(exercises), "every exercise needs a (hidden) worked solution"
    assert len(re.findall(r":class: dropdown", markdown)) >= len(solutions), "solutions must be hidden (dropdown)"
    auto_checked = sum("### BEGIN SOLUTION" in c for c in code)
    assert auto_checked >= 2, f"{path.name}: {auto_checked} auto-checked exercises, the standard is two or more"
    assert re.search(r"^## Summary", markdown, re.M), f"{path.name} needs a summary section"
    assert "{cite}" in markdown, f"{path.name} should cite its sources"
    assert "Interactive figure" in markdown, f"{path.name} should tell web readers how to interact with widgets"

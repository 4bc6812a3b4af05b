"""The student versions render in JupyterLab as on the site (jupyterlab-myst), in headless Chromium.

The student versions of all chapters (tools/student.py, as `make lab` writes them) are opened in
JupyterLab without running them. Every markdown cell must be rendered by MyST: each exercise
directive of the notebook becomes an exercise box, each admonition an admonition box, each
citation a citation and each cross-reference a link or reference, and no rendered cell shows
MyST's syntax (a ``:::`` or a ``{role}``) as text.
"""
from __future__ import annotations

import json
import re
import sys

import nbformat
import pytest

from site_fixtures import ROOT, visit
from test_book_structure import BOOK, chapters
from test_widgets_live import jupyterlab

sys.path.insert(0, str(ROOT / "tools"))
from student import write_student_versions  # noqa: E402

# MyST syntax that must not survive rendering as visible text
RAW_MYST = re.compile(r"(^|\s):{3,}|`{3}\{|\{(cite|ref|numref|doc|eq|exercise|solution|admonition|note)[:}`]")

OPEN = """async (path) => {
  const app = window.jupyterapp;
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  app.shell.activateById(panel.id);
  await panel.context.ready;
  await panel.revealed;
  return panel.id;
}"""

CLOSE = """async (id) => {
  const panel = Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.id === id);
  // let the kernel finish starting first: closing a panel whose session is still starting
  // throws an uncaught "Disposed" from JupyterLab's kernel connection (seen on a busy machine)
  await panel.sessionContext.ready;
  await panel.sessionContext.shutdown();
  panel.close();
}"""

# jupyterlab-myst renders a markdown cell into a `.myst` element (KaTeX for the math)
RENDERED = """([id, count]) => document.querySelectorAll(`#${id} .jp-MarkdownCell .myst`).length >= count"""

WHAT_IS_SHOWN = """(id) => {
  const panel = document.getElementById(id);
  const cells = Array.from(panel.querySelectorAll('.jp-MarkdownCell .myst'));
  const shown = Array.from(panel.querySelectorAll('.jp-MarkdownCell .myst, .jp-MarkdownCell .jp-RenderedMarkdown'));
  const count = selector => panel.querySelectorAll(selector).length;
  return {texts: shown.map(cell => cell.innerText), myst: cells.length,
          exercises: count('.myst-exercise'), admonitions: count('.myst-admonition'),
          citations: count('.myst .cite-group, .myst [title="Citation Not Found"]'), math: count('.myst .katex')};
}"""


def expected(notebook) -> dict:
    """What the source of the (student) notebook asks to be shown."""
    markdown = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    text = "\n".join(markdown)
    return {"cells": len(markdown),
            "exercises": len(re.findall(r"^(`{3,}|:{3,})\{exercise\}", text, re.M)),
            "admonitions": len(re.findall(r"^(`{3,}|:{3,})\{(admonition|note|tip|warning|important|caution)\}",
                                          text, re.M)),
            "citations": len(re.findall(r"\{cite[:pt]*\}", text))}


@pytest.mark.browser
def test_student_versions_render_myst_in_jupyterlab(chromium, tmp_path):
    notebooks = tmp_path / "student"
    write_student_versions(BOOK, notebooks)
    # no debugger: it asks each new kernel for its state, and closing the notebook cancels that
    page_config = tmp_path / "lab" / "config" / "labconfig" / "page_config.json"
    page_config.parent.mkdir(parents=True)
    page_config.write_text(json.dumps({"disabledExtensions": {"@jupyterlab/debugger-extension": True}}))
    problems = []
    with jupyterlab(notebooks, tmp_path / "lab") as url, visit(chromium, url + "lab", url) as lab:
        lab.page.wait_for_function("() => window.jupyterapp?.shell", timeout=120000)
        # the shell exists well before every plugin has registered its commands on a busy machine
        lab.page.evaluate("async () => { await window.jupyterapp.restored; }")
        lab.page.wait_for_function("() => window.jupyterapp.commands.hasCommand('docmanager:open')",
                                   timeout=60000)
        for path in chapters():
            notebook = nbformat.read(notebooks / path.name, as_version=4)
            want = expected(notebook)
            panel = lab.page.evaluate(OPEN, path.name)
            lab.page.wait_for_function(RENDERED, arg=[panel, want["cells"]], timeout=120000)
            shown = lab.page.evaluate(WHAT_IS_SHOWN, panel)
            raw = [t[:120] for t in shown["texts"] if RAW_MYST.search(t)]
            if raw:
                problems.append(f"{path.name}: MyST syntax shown as text: {raw[:3]}")
            if shown["myst"] != want["cells"]:
                problems.append(f"{path.name}: {shown['myst']} of {want['cells']} markdown cells rendered by MyST")
            for kind in ("exercises", "admonitions"):
                if shown[kind] != want[kind]:
                    problems.append(f"{path.name}: {shown[kind]} {kind} shown, {want[kind]} in the notebook")
            if want["citations"] and not shown["citations"]:
                problems.append(f"{path.name}: no citation rendered ({want['citations']} in the notebook)")
            if not shown["math"]:
                problems.append(f"{path.name}: no math typeset")
            lab.page.evaluate(CLOSE, panel)
        # jupyterlab-myst logs each reference to another document (resolved on the site, not here)
        problems += [p for p in lab.problems() if "Cross reference target was not found" not in p]
    assert not problems, "\n".join(problems)

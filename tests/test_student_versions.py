"""The student versions (tools/student.py, `make student`): only the solutions go.

What must survive is found independently of the tool: markdown-it-py (the parser MyST is built
on) reads every markdown cell of each chapter, and every paragraph, heading, list item and table
cell outside a solution must be in the student version, every exercise label too; the solutions'
own paragraphs must not. All student notebooks then run to their end in one test, every checker
reporting ``[not done]``.
"""
import os
import re
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.colon_fence import colon_fence_plugin
from nbclient import NotebookClient

from test_book_structure import BOOK, ROOT, chapters

sys.path.insert(0, str(ROOT / "tools"))
from student import STUB, strip_code, strip_markdown, student_version, write_student_versions  # noqa: E402

REPORT = re.compile(r"^\[(pass|fail|not done)\] ")
CHECK_CALL = re.compile(r"^\s*check_\w+\(", re.M)  # a checker called in a cell (one line printed each)
_MD = MarkdownIt("commonmark").enable("table").use(colon_fence_plugin)
_OPTION = re.compile(r"^:[\w-]+:.*$")


def _normal(text: str) -> str:
    """Whitespace made single spaces; a table's escaped pipe (markdown-it unescapes it) a pipe."""
    return " ".join(text.replace("\\|", "|").split())


def _texts(source: str, gated: bool):
    """(kept, solution, exercise labels, gated) of a markdown cell, read with markdown-it:
    the text of every inline element outside / inside solutions, and the labels of exercises."""
    kept, solution, labels = [], [], []
    for token in _MD.parse(source):
        if token.type in ("fence", "colon_fence") and token.info.startswith("{"):
            name = token.info[1:].split("}")[0]
            if name == "solution-start":
                gated = True
            elif name == "solution-end":
                gated = False
            elif name == "solution" or gated:
                solution += [t for t in _texts(token.content, False)[0] if t]
            elif name not in ("code", "code-cell", "math"):
                lines = token.content.splitlines()
                options = [line for line in lines if _OPTION.match(line)]
                if name == "exercise":
                    labels += [line.split(":", 2)[2].strip() for line in options if line.startswith(":label:")]
                body = "\n".join(line for line in lines if not _OPTION.match(line))
                inner, inner_solution, inner_labels, _ = _texts(body, False)
                kept += inner
                solution += inner_solution
                labels += inner_labels
        elif token.type == "inline":
            (solution if gated else kept).append(_normal(token.content))
    return kept, solution, labels, gated


def markdown_texts(notebook):
    """Everything of a notebook's markdown, split as above (gated solutions span cells)."""
    kept, solution, labels, gated = [], [], [], False
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            k, s, l, gated = _texts(cell.source, gated)
            kept, solution, labels = kept + k, solution + s, labels + l
    return kept, solution, labels


def test_strip_code_keeps_the_indentation():
    source = textwrap.dedent("""\
        def f(x):
            '''doc'''
            ### BEGIN SOLUTION
            y = x + 1
            return y
            ### END SOLUTION
        print(f)""")
    assert strip_code(source) == f"def f(x):\n    '''doc'''\n    {STUB}\nprint(f)"


@pytest.mark.parametrize("bad", ["### BEGIN SOLUTION\nx = 1", "x = 1\n### END SOLUTION",
                                 "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"])
def test_unbalanced_code_markers_are_an_error(bad):
    with pytest.raises(ValueError, match="SOLUTION"):
        strip_code(bad)


def test_a_solution_directive_goes_and_the_exercise_and_the_text_around_it_stay():
    source = ("## Exercises\n\nIntro.\n\n```{exercise} E\n:label: e\nDo it.\n```\n\n"
              "````{solution} e\n:class: dropdown\nThe answer:\n\n```python\nx = 1\n```\n````\n\n"
              "| a | b |\n| --- | --- |\n| 1 | 2 |\n\n:::{solution} e\nAgain.\n:::\nAfter.")
    text, gated = strip_markdown(source)
    assert text == ("## Exercises\n\nIntro.\n\n```{exercise} E\n:label: e\nDo it.\n```\n\n"
                    "| a | b |\n| --- | --- |\n| 1 | 2 |\n\nAfter.")
    assert not gated


def test_a_solution_inside_another_directive_goes_a_code_listing_of_one_stays():
    source = "::::{admonition} A\nText.\n:::{solution} e\nSecret.\n:::\n::::\n\n```text\n```{solution} x\n```"
    assert strip_markdown(source)[0] == "::::{admonition} A\nText.\n::::\n\n```text\n```{solution} x\n```"


def test_a_gated_solution_goes_across_cells_its_code_cell_stays_stubbed():
    cells = [nbformat.v4.new_markdown_cell("Before.\n\n```{exercise} E\n:label: e\nDo it.\n```\n\n"
                                           "```{solution-start} e\n:class: dropdown\n```\nSolution text."),
             nbformat.v4.new_markdown_cell("More solution text."),
             nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
                                       execution_count=3, outputs=[nbformat.v4.new_output("stream", text="1")]),
             nbformat.v4.new_markdown_cell("Last words.\n```{solution-end}\n```\n\nAfter."),
             nbformat.v4.new_code_cell("check(f)")]
    notebook = student_version(nbformat.v4.new_notebook(cells=cells))
    assert [c.source for c in notebook.cells] == [
        "Before.\n\n```{exercise} E\n:label: e\nDo it.\n```", f"def f():\n    {STUB}", "After.", "check(f)"]
    assert all(c.outputs == [] and c.execution_count is None for c in notebook.cells if c.cell_type == "code")


@pytest.mark.parametrize("bad", ["```{solution} e\nnever closed", "```{solution-end}\n```",
                                 "```{solution-start} e\n```\n```{solution-start} f\n```"])
def test_unbalanced_solution_fences_are_an_error(bad):
    with pytest.raises(ValueError, match="solution"):
        student_version(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(bad)]))


def test_an_unended_gated_solution_is_an_error():
    with pytest.raises(ValueError, match="solution-end"):
        student_version(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("```{solution-start} e\n```")]))


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    target = tmp_path_factory.mktemp("student")
    written = write_student_versions(BOOK, target)
    assert {p.name for p in written} == {p.name for p in chapters()}
    return target


def test_keep_leaves_a_students_work_alone(tmp_path):
    (tmp_path / "ewma.ipynb").write_text("my work")
    written = write_student_versions(BOOK, tmp_path, keep=True)
    assert (tmp_path / "ewma.ipynb").read_text() == "my work" and tmp_path / "ewma.ipynb" not in written
    assert {p.name for p in written} == {p.name for p in chapters()} - {"ewma.ipynb"}
    write_student_versions(BOOK, tmp_path)  # without keep: the student versions, all of them
    assert nbformat.read(tmp_path / "ewma.ipynb", as_version=4) == \
        student_version(nbformat.read(BOOK / "ewma.ipynb", as_version=4))


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.stem)
def test_only_the_solutions_are_gone(student_dir, path):
    original = nbformat.read(path, as_version=4)
    notebook = nbformat.read(student_dir / path.name, as_version=4)
    assert student_version(original) == notebook  # the command writes exactly student_version()
    text = "\n".join(c.source for c in notebook.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "{solution}", "{solution-start}", "{solution-end}"):
        assert marker not in text, f"{marker!r} left in the student version of {path.name}"

    kept, solution, labels = markdown_texts(original)
    student_kept, student_solution, student_labels = markdown_texts(notebook)
    assert labels and student_labels == labels, "every exercise, in order"
    student_text = _normal("\n".join(c.source for c in notebook.cells if c.cell_type == "markdown"))
    missing = [t for t in kept if t not in student_text]
    assert not missing, f"{path.name}: paragraphs lost in the student version: {missing[:3]}"
    assert solution and not student_solution
    left = [t for t in solution if len(t) > 40 and t not in " ".join(kept) and t in student_text]
    assert not left, f"{path.name}: solution text left: {left[:3]}"

    code = [c for c in original.cells if c.cell_type == "code"]
    student_code = [c for c in notebook.cells if c.cell_type == "code"]
    assert [c.source for c in student_code] == [strip_code(c.source) for c in code]
    exercises = sum(c.source.count("### BEGIN SOLUTION") for c in code)
    assert exercises >= 1 and text.count(STUB) == exercises
    assert all(c.outputs == [] and c.execution_count is None for c in student_code)
    assert "widgets" not in notebook.metadata


def run_student_notebook(path: Path, env: dict) -> str | None:
    """Run one student notebook in a fresh kernel; what is wrong with it, or None."""
    notebook = nbformat.read(path, as_version=4)
    try:
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute(env=env)
    except Exception as error:  # any cell that raised: the student cannot run the chapter
        return f"{path.name}: {type(error).__name__}: {str(error)[-600:]}"
    printed = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
    reports = [line for line in printed.splitlines() if REPORT.match(line)]
    calls = sum(len(CHECK_CALL.findall(c.source)) for c in notebook.cells if c.cell_type == "code")
    if not reports or len(reports) < calls or not all(line.startswith("[not done]") for line in reports):
        return f"{path.name}: {calls} checker calls, the checkers printed {reports}"
    return None


@pytest.mark.notebook
def test_every_student_notebook_runs_to_its_end_not_done(student_dir):
    """One test for all chapters, each in a fresh kernel, two kernels at a time (the machine's
    two cores; the kernels are separate processes, the threads here only wait for them)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_LIB_GRADING")}
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = list(pool.map(lambda path: run_student_notebook(student_dir / path.name, env), chapters()))
    problems = [problem for problem in found if problem]
    assert len(found) == len(chapters()) and not problems, "\n".join(problems)

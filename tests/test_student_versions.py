"""The student versions: solutions removed, and every student notebook runs to its end."""
import textwrap

import nbformat
import pytest
from nbclient import NotebookClient

from course_lib.student import STUB, strip_code, strip_markdown, student_version, write_student_versions
from test_book_structure import BOOK, chapters


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
def test_unbalanced_markers_are_an_error(bad):
    with pytest.raises(ValueError, match="SOLUTION"):
        strip_code(bad)


def test_strip_markdown_removes_solution_directives_only():
    source = "```{exercise} E\n:label: e\nDo it.\n```\n\n```{solution} e\n:class: dropdown\nThe answer.\n```\nAfter."
    assert strip_markdown(source) == "```{exercise} E\n:label: e\nDo it.\n```\n\nAfter."


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    target = tmp_path_factory.mktemp("student")
    written = write_student_versions(BOOK, target)
    assert {p.name for p in written} == {p.name for p in chapters()}
    return target


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.stem)
def test_no_solution_is_left(student_dir, path):
    original = nbformat.read(path, as_version=4)
    notebook = nbformat.read(student_dir / path.name, as_version=4)
    text = "\n".join(c.source for c in notebook.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "{solution}", "{solution-start}", "{solution-end}"):
        assert marker not in text, f"{marker!r} left in the student version of {path.name}"
    exercises = sum(c.source.count("### BEGIN SOLUTION") for c in original.cells)
    assert exercises >= 1 and text.count(STUB) == exercises
    assert all(c.outputs == [] and c.execution_count is None for c in notebook.cells if c.cell_type == "code")
    assert "widgets" not in notebook.metadata
    assert student_version(original) == notebook  # the command writes exactly student_version()


@pytest.mark.notebook
@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.stem)
def test_student_notebook_runs_to_its_end(student_dir, path):
    notebook = nbformat.read(student_dir / path.name, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(student_dir)}}).execute()  # raises on any error
    printed = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
    reports = [line for line in printed.splitlines() if line.startswith("[")]
    assert reports and all(line.startswith("[not done]") for line in reports), reports

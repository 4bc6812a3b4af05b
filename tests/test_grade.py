"""Grading (tools/grade.py and the checkers' grading mode): a passing, a failing and an
unfinished submission are graded as such, per student and per exercise, by the grading command
and by nbval."""
import json
import os
import subprocess
import sys

import nbformat
import pytest

from test_book_structure import BOOK, ROOT

sys.path.insert(0, str(ROOT / "tools"))
from grade import chapter_exercises, grade_folder, main, report  # noqa: E402
from student import student_version  # noqa: E402

IMPORTS = "import numpy as np\nfrom course_lib.exercises.ewma import check_bias_corrected, check_ewma, check_weights"
EWMA = ("def my_ewma(y, rho):\n    out, s = np.empty(len(y)), 0.0\n    for t, value in enumerate(y):\n"
        "        s = rho * s + (1 - rho) * value\n        out[t] = s\n    return out")
SWAPPED = EWMA.replace("rho * s + (1 - rho) * value", "(1 - rho) * s + rho * value")
CORRECTED = "def my_bias_corrected_ewma(y, rho):\n    return my_ewma(y, rho) / (1 - rho ** np.arange(1, len(y) + 1))"
WEIGHTS = "def my_weights(rho, t):\n    return (1 - rho) * rho ** np.arange(t)"


def submission(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    """alice: all right. bob: a wrong EWMA, a function that raises, a deleted check. carol: the
    chapter's student version, untouched. dave: a cell that raises before a right EWMA."""
    folder = tmp_path_factory.mktemp("submissions")
    notebooks = {
        "alice": submission(IMPORTS, EWMA, "check_ewma(my_ewma)", CORRECTED, "check_bias_corrected(my_bias_corrected_ewma)",
                            WEIGHTS, "check_weights(my_weights)"),
        "bob": submission(IMPORTS, SWAPPED, "check_ewma(my_ewma)",
                          "def my_bias_corrected_ewma(y, rho):\n    return y[10**6]",
                          "check_bias_corrected(my_bias_corrected_ewma)"),
        "dave": submission(IMPORTS, "1 / 0", EWMA, "check_ewma(my_ewma)"),
        "carol": student_version(nbformat.read(BOOK / "ewma.ipynb", as_version=4)),
    }
    for name, notebook in notebooks.items():
        (folder / name).mkdir()
        nbformat.write(notebook, folder / name / "ewma.ipynb")
    return folder


@pytest.fixture(scope="module")
def graded(submissions):
    return grade_folder(submissions)


@pytest.fixture(scope="module")
def grades(graded):
    return {(g.student, g.exercise): g for g in graded}


def test_the_exercises_of_a_chapter_are_its_checkers():
    assert chapter_exercises("ewma") == ["ewma", "bias_corrected_ewma", "ewma_weights"]
    assert chapter_exercises("no_such_chapter") == []


def test_each_student_and_exercise_is_graded_pass_fail_or_not_done(grades):
    statuses = {key: g.status for key, g in grades.items()}
    assert statuses == {
        ("alice", "ewma"): "pass", ("alice", "bias_corrected_ewma"): "pass", ("alice", "ewma_weights"): "pass",
        ("bob", "ewma"): "fail", ("bob", "bias_corrected_ewma"): "fail", ("bob", "ewma_weights"): "not done",
        ("carol", "ewma"): "not done", ("carol", "bias_corrected_ewma"): "not done",
        ("carol", "ewma_weights"): "not done",
        ("dave", "ewma"): "pass", ("dave", "bias_corrected_ewma"): "not done", ("dave", "ewma_weights"): "not done"}
    assert "Hint:" in grades["bob", "ewma"].message
    assert "raised IndexError" in grades["bob", "bias_corrected_ewma"].message
    assert grades["bob", "ewma_weights"].message == "its check did not run"
    assert grades["carol", "ewma"].message.startswith("[not done] ewma:")


def test_the_command_prints_the_table_and_writes_json(submissions, graded, tmp_path, capsys):
    assert main([str(submissions), "--json", str(tmp_path / "grades.json")]) == 0
    printed = capsys.readouterr().out
    saved = json.loads((tmp_path / "grades.json").read_text())
    assert printed.strip() == report(graded).strip()
    assert "alice: 3 pass, 0 fail, 0 not done (of 3 exercises)" in printed
    assert "bob: 0 pass, 2 fail, 1 not done (of 3 exercises)" in printed
    assert "carol: 0 pass, 0 fail, 3 not done (of 3 exercises)" in printed
    assert len(saved) == 12 and {r["status"] for r in saved} == {"pass", "fail", "not done"}


def test_a_folder_without_students_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path)])
    assert exit_.value.code == 2 and "one folder per student" in capsys.readouterr().err


@pytest.mark.parametrize("student, grading, passes", [("alice", "1", True), ("bob", "1", False), ("carol", "1", False),
                                                     ("bob", "0", True)])
def test_nbval_in_grading_mode_fails_a_failing_or_unfinished_submission(submissions, student, grading, passes):
    """Without grading mode bob's notebook runs without an error (the checkers only print)."""
    env = dict(os.environ, COURSE_LIB_GRADING=grading)
    run = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
                          "--rootdir", str(submissions / student), str(submissions / student / "ewma.ipynb")],
                         capture_output=True, text=True, env=env, cwd=submissions / student)
    assert (run.returncode == 0) == passes, run.stdout[-2000:]
    if not passes:
        assert "ExerciseNotPassed" in run.stdout

"""Grade a folder of submitted notebooks with the book's own checkers.

    python tools/grade.py submissions/              # or: make grade SUBMISSIONS=submissions/
    python tools/grade.py submissions/ --json grades.json

``submissions/`` holds one folder per student, named after the student, with the chapter
notebooks they hand in under their chapter names (``submissions/alice/ewma.ipynb``, ...).
Each notebook runs top to bottom in a fresh kernel, in its own folder, and every checker it
calls records its result (course_lib.exercises: ``COURSE_LIB_GRADING_LOG``); a cell that raises
does not stop the run. The report has one line per student, chapter and exercise: ``pass``,
``fail`` (with the checker's message) or ``not done`` (the checker said so, or never ran: its
cell was deleted, or the notebook stopped before it). The exercises of a chapter are the
checkers of ``course_lib.exercises.<chapter>``, so an exercise a student skipped is listed too.

The notebooks are the students' code: run this where running their code is safe.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course_lib.exercises._core import FAIL, GRADING_ENV, GRADING_LOG_ENV, NOT_DONE, PASS, Checker

STATUSES = (PASS, FAIL, NOT_DONE)


@dataclass(frozen=True)
class Grade:
    student: str
    chapter: str
    exercise: str
    status: str  # pass, fail or not done
    message: str


def chapter_exercises(chapter: str) -> list[str]:
    """The titles of the checkers of ``course_lib.exercises.<chapter>``, in the module's order."""
    try:
        module = importlib.import_module(f"course_lib.exercises.{chapter}")
    except ModuleNotFoundError:
        return []
    return [value.title for value in vars(module).values() if isinstance(value, Checker)]


def run_notebook(path: Path, timeout: float = 120.0) -> tuple[list[dict], str | None]:
    """Run ``path`` in a fresh kernel; return the checkers' records and why the run stopped early (or None)."""
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as work:
        log = Path(work) / "checks.jsonl"
        env = {k: v for k, v in os.environ.items() if k != GRADING_ENV}  # every cell runs, none stops the run
        env[GRADING_LOG_ENV] = str(log)
        stopped = None
        try:
            NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
                           resources={"metadata": {"path": str(path.parent)}}).execute(env=env)
        except Exception as error:  # a cell over the time limit, a kernel that died
            stopped = f"the notebook stopped early ({type(error).__name__})"
        records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return records, stopped


def grade_notebook(student: str, path: Path, timeout: float = 120.0) -> list[Grade]:
    """One :class:`Grade` per exercise of the chapter ``path.stem`` (the last check of each counts)."""
    records, stopped = run_notebook(path, timeout)
    last = {}
    for record in records:
        last[record["exercise"]] = record
    exercises = chapter_exercises(path.stem)
    exercises += [title for title in last if title not in exercises]
    grades = []
    for title in exercises:
        if title in last:
            grades.append(Grade(student, path.stem, title, last[title]["status"], last[title]["message"]))
        else:
            grades.append(Grade(student, path.stem, title, NOT_DONE, stopped or "its check did not run"))
    if not exercises:
        grades.append(Grade(student, path.stem, "(none)", NOT_DONE, stopped or "no checker ran in this notebook"))
    return grades


def grade_folder(submissions: Path, timeout: float = 120.0) -> list[Grade]:
    """Grade every notebook of every student folder in ``submissions``."""
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise ValueError(f"submissions must be a folder with one folder per student, got {submissions}")
    students = sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not students:
        raise ValueError(f"submissions must hold one folder per student, {submissions} has none")
    grades = []
    for folder in students:
        notebooks = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        for path in notebooks:
            grades += grade_notebook(folder.name, path, timeout)
        if not notebooks:
            grades.append(Grade(folder.name, "(none)", "(none)", NOT_DONE, "no notebook handed in"))
    return grades


def report(grades: list[Grade]) -> str:
    """The table: one line per student, chapter and exercise, then one summary line per student."""
    widths = [max([len(h)] + [len(getattr(g, h)) for g in grades]) for h in ("student", "chapter", "exercise")]
    lines = [f"{'student':{widths[0]}}  {'chapter':{widths[1]}}  {'exercise':{widths[2]}}  status"]
    for g in grades:
        detail = "" if g.status == PASS else f"  {g.message}"
        lines.append(f"{g.student:{widths[0]}}  {g.chapter:{widths[1]}}  {g.exercise:{widths[2]}}  {g.status}{detail}")
    lines.append("")
    for student in dict.fromkeys(g.student for g in grades):
        mine = [g for g in grades if g.student == student]
        counts = ", ".join(f"{sum(g.status == s for g in mine)} {s}" for s in STATUSES)
        lines.append(f"{student}: {counts} (of {len(mine)} exercises)")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, help="folder with one folder of notebooks per student")
    parser.add_argument("--json", type=Path, help="also write the grades, with messages, to this JSON file")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds allowed per cell (default 120)")
    args = parser.parse_args(argv)
    try:
        grades = grade_folder(args.submissions, args.timeout)
    except ValueError as error:
        parser.error(str(error))
    print(report(grades))
    if args.json:
        args.json.write_text(json.dumps([asdict(g) for g in grades], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

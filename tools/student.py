"""Write the student versions of the chapters: solutions removed, everything else kept.

    python tools/student.py book student         # or: make student (overwrites student/)
    python tools/student.py book student --keep  # make lab: a notebook already there is kept

In each notebook of the source folder:

* in code cells, every block between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's
  markers) becomes ``raise NotImplementedError(...)`` at the block's indentation;
* in markdown cells, only the fenced solution text goes: a ``{solution}`` directive with its
  body, and a gated solution from its ``{solution-start}`` fence to its ``{solution-end}`` fence
  (the markdown between them, across cells; the code cells between them stay, with their
  solution blocks replaced as above). The exercise statements, the paragraphs, tables and
  headings around them, in the same cell or not, all stay; a cell left empty goes;
* every output, execution count and stored widget state is cleared.

This is an authoring tool (it needs nbformat), not part of course_lib.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code.")'

# An opening fence of MyST/CommonMark: up to 3 spaces, then 3+ backticks or colons, then the info.
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|:{3,})(?P<info>.*)$")
_DIRECTIVE = re.compile(r"^\s*\{(?P<name>[^}\s]+)\}")
SOLUTION_DIRECTIVES = {"solution", "solution-start", "solution-end"}
# Directives whose body is literal text, not markdown (never searched for solutions inside).
LITERAL_DIRECTIVES = {"code", "code-block", "code-cell", "sourcecode", "math", "raw", "eval-rst", "literalinclude"}


def strip_code(source: str) -> str:
    """Replace each solution block of a code cell by a ``raise NotImplementedError`` stub."""
    lines, out, inside = source.splitlines(), [], False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if inside:
                raise ValueError(f"nested {BEGIN!r} in cell:\n{source}")
            inside = True
            out.append(line[: len(line) - len(line.lstrip())] + STUB)
        elif stripped.startswith(END):
            if not inside:
                raise ValueError(f"{END!r} without {BEGIN!r} in cell:\n{source}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN!r} without {END!r} in cell:\n{source}")
    return "\n".join(out)


def _closing(lines: list[str], start: int, fence: str) -> int:
    """Index of the line closing the fence opened at ``start`` (CommonMark: the same character,
    at least as many, nothing else on the line); ``len(lines)`` if it is never closed."""
    closer = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    for i in range(start + 1, len(lines)):
        if closer.match(lines[i]):
            return i
    return len(lines)


def _strip_lines(lines: list[str], gated: bool) -> tuple[list[str], bool]:
    """Drop the solution text from markdown ``lines``.

    ``gated`` says whether the lines start inside a gated solution (after a ``{solution-start}``
    of an earlier cell). Returns the kept lines and whether they end inside a gated solution.
    """
    kept, i = [], 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            if not gated:
                kept.append(lines[i])
            i += 1
            continue
        fence, info = opening["fence"], opening["info"]
        end = _closing(lines, i, fence)
        directive = _DIRECTIVE.match(info)
        name = directive["name"] if directive else None
        if name in SOLUTION_DIRECTIVES:
            if end == len(lines):
                raise ValueError(f"the {{{name}}} fence opened by {lines[i]!r} is never closed")
            if name == "solution-start":
                if gated:
                    raise ValueError("a {solution-start} inside a gated solution (no {solution-end} before it)")
                gated = True
            elif name == "solution-end":
                if not gated:
                    raise ValueError("a {solution-end} without a {solution-start} before it")
                gated = False
        elif gated:
            pass  # any other block inside a gated solution is solution text
        elif name is not None and name not in LITERAL_DIRECTIVES:
            # a directive whose body is markdown (exercise, admonition, ...): look inside it
            body, gated_inside = _strip_lines(lines[i + 1:end], False)
            if gated_inside:
                raise ValueError(f"a {{solution-start}} inside {lines[i]!r} is not ended there")
            kept += [lines[i], *body] + lines[end:end + 1]
        else:
            kept += lines[i:end + 1]  # code and other literal blocks stay as they are
        i = end + 1
    return kept, gated


def _tidy(lines: list[str]) -> str:
    """Join lines, with no run of blank lines left where a block was cut, and none at the ends."""
    out = []
    for line in lines:
        if line.strip() or (out and out[-1].strip()):
            out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


def strip_markdown(source: str, gated: bool = False) -> tuple[str, bool]:
    """Cut the solution text out of a markdown cell; see :func:`_strip_lines` for ``gated``.

    Returns the remaining text and whether the cell ends inside a gated solution.
    """
    kept, gated = _strip_lines(source.splitlines(), gated)
    return (_tidy(kept) if kept != source.splitlines() else source), gated


def student_version(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with solutions removed and outputs cleared."""
    result = nbformat.from_dict(notebook)  # deep copy
    cells, gated = [], False
    for cell in result.cells:
        if cell.cell_type == "markdown":
            cell.source, gated = strip_markdown(cell.source, gated)
            if not cell.source.strip():
                continue
        elif cell.cell_type == "code":
            cell.source = strip_code(cell.source)
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        cells.append(cell)
    if gated:
        raise ValueError("a {solution-start} without its {solution-end}")
    result.cells = cells
    result.metadata.pop("widgets", None)
    return result


def write_student_versions(source_dir: Path, target_dir: Path, keep: bool = False) -> list[Path]:
    """Write the student version of every notebook in ``source_dir`` to ``target_dir``.

    With ``keep``, a notebook already in ``target_dir`` (a student's work) is left as it is.
    Returns the notebooks written.
    """
    source_dir, target_dir = Path(source_dir), Path(target_dir)
    if not source_dir.is_dir():
        raise ValueError(f"source_dir must be a folder of notebooks, got {source_dir}")
    target_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(source_dir.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        try:
            student = student_version(notebook)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
        target = target_dir / path.name
        if keep and target.exists():
            continue
        nbformat.write(student, target)
        written.append(target)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder of chapter notebooks (book)")
    parser.add_argument("target", type=Path, help="folder for the student versions (student)")
    parser.add_argument("--keep", action="store_true",
                        help="leave the notebooks already in the target folder as they are (make lab)")
    args = parser.parse_args(argv)
    for path in write_student_versions(args.source, args.target, keep=args.keep):
        print(f"wrote {path}")
    if args.keep:
        print(f"(notebooks already in {args.target} were kept: delete one there to get a fresh copy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

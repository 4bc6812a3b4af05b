"""Write the student versions of the chapters: solutions removed, outputs cleared.

    python -m course_lib.student book student      # or: make student

In each notebook:

* in code cells, every block between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's
  markers) becomes ``raise NotImplementedError(...)`` at the block's indentation;
* the worked solutions of derivations go: a ``{solution}`` directive is cut out of its
  markdown cell, and the markdown cells that open and close a gated solution
  (``{solution-start}`` / ``{solution-end}``) are dropped, while the code cells between them
  stay, with their solution blocks replaced as above;
* every output, execution count and stored widget state is cleared.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code.")'
_DIRECTIVE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution\}.*?^(?P=fence)[ \t]*$\n?", re.M | re.S)


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


def strip_markdown(source: str) -> str:
    """Cut every ``{solution}`` directive (with its body) out of a markdown cell."""
    return _DIRECTIVE.sub("", source)


def student_version(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with solutions removed and outputs cleared."""
    result = nbformat.from_dict(notebook)  # deep copy
    cells = []
    for cell in result.cells:
        if cell.cell_type == "markdown":
            if re.search(r"\{solution-(start|end)\}", cell.source):
                continue
            cell.source = strip_markdown(cell.source)
        elif cell.cell_type == "code":
            cell.source = strip_code(cell.source)
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    result.cells = cells
    result.metadata.pop("widgets", None)
    return result


def write_student_versions(source_dir: Path, target_dir: Path) -> list[Path]:
    """Write the student version of every notebook in ``source_dir`` to ``target_dir``."""
    source_dir, target_dir = Path(source_dir), Path(target_dir)
    if not source_dir.is_dir():
        raise ValueError(f"source_dir must be a folder of notebooks, got {source_dir}")
    target_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(source_dir.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        target = target_dir / path.name
        nbformat.write(student_version(notebook), target)
        written.append(target)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder of chapter notebooks (book)")
    parser.add_argument("target", type=Path, help="folder for the student versions (student)")
    args = parser.parse_args(argv)
    for path in write_student_versions(args.source, args.target):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

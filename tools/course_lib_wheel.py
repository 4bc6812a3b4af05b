"""Sphinx extension: build course_lib's wheel with the site, and offer it on a page.

Loaded from ``_config.yml`` (``sphinx: local_extensions: course_lib_wheel: tools``). When the
build starts, the wheel is built from the repository (``pip wheel``, no network, no build
isolation: setuptools comes pinned in requirements.txt) with fixed file dates, so the same
sources give the same bytes; when the build has finished, it is copied to the site's root,
``<site>/course_lib-<version>-py3-none-any.whl``. A page offers it with the directive

    ```{course-lib-wheel}
    ```

which shows the download link and the command that installs it (with the ``lab`` extra:
JupyterLab and jupyterlab-myst, so a chapter downloaded from the site runs as it is).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

SOURCES = ("pyproject.toml", "README.md", "LICENSE")
FIXED_DATE = "315532800"  # 1980-01-01, the earliest date a zip file can hold


def build_wheel(root: Path, out: Path) -> Path:
    """Build course_lib's wheel from the repository ``root`` into ``out``; return its path.

    The package is copied to a temporary folder first, so the build leaves nothing (``build/``,
    ``*.egg-info``) in the repository.
    """
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("course_lib-*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "course_lib"
        shutil.copytree(root / "course_lib", source / "course_lib",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
        for name in SOURCES:
            shutil.copy2(root / name, source / name)
        env = dict(os.environ, SOURCE_DATE_EPOCH=FIXED_DATE, PIP_DISABLE_PIP_VERSION_CHECK="1")
        command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                   "--no-index", "--wheel-dir", str(out), str(source)]
        run = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp)
        if run.returncode != 0:
            raise RuntimeError(f"building course_lib's wheel failed:\n{run.stdout}\n{run.stderr}")
    (wheel,) = out.glob("course_lib-*.whl")
    return wheel


class CourseLibWheel(SphinxDirective):
    """The download link of course_lib's wheel and the command that installs it."""

    has_content = False

    def run(self):
        name = self.env.app.course_lib_wheel.name
        href = "../" * self.env.docname.count("/") + name
        link = nodes.paragraph("", "", nodes.Text("Download "),
                               nodes.reference("", name, refuri=href, classes=["course-lib-wheel"]),
                               nodes.Text(" (course_lib, the book's library, for Python 3.11 or newer), then "
                                          "run in the folder you downloaded it to:"))
        command = f'python -m pip install "{name}[lab]"'
        block = nodes.literal_block(command, command, language="bash")
        return [link, block]


def _build(app):
    out = Path(app.outdir).parent / "course_lib_wheel"
    app.course_lib_wheel = build_wheel(Path(app.confdir), out)


def _copy(app, exception):
    if exception is None and app.builder.format == "html":
        shutil.copy2(app.course_lib_wheel, Path(app.outdir) / app.course_lib_wheel.name)


def setup(app):
    app.add_directive("course-lib-wheel", CourseLibWheel)
    app.connect("builder-inited", _build)
    app.connect("build-finished", _copy)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

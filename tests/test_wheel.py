"""course_lib installable on its own: the site (built as by `make book`) carries the wheel and the
command that installs it, and a chapter downloaded from the site runs in a fresh virtual
environment with that wheel installed.

No network: the fresh environment gets the wheel's dependencies from this one's packages (a
folder of links to them, without course_lib, on its path), and pip installs the wheel with
``--no-index``; pip still resolves the declared dependencies (and the ``lab`` extra) there, so a
missing declaration fails the install. tests/test_dependencies.py checks that every package
course_lib imports is declared. The kernel that runs the chapter is the fresh environment's
Python, and the chapter must import course_lib from the installed wheel.
"""
from __future__ import annotations

import html as html_module
import json
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest

from test_book_structure import ROOT, chapters

WHEEL = re.compile(r"course_lib-[\d.]+-py3-none-any\.whl")
CHAPTER = "gradient_descent"  # the first chapter, as a reader would start


def _wheel(site: Path) -> Path:
    wheels = [p for p in site.iterdir() if WHEEL.fullmatch(p.name)]
    assert len(wheels) == 1, f"one course_lib wheel expected at the site's root, found {wheels}"
    return wheels[0]


def test_the_site_offers_the_wheel_with_its_install_command(built_site):
    wheel = _wheel(built_site)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    packaged = {n for n in names if n.startswith("course_lib/") and n.endswith(".py")}
    here = {str(p.relative_to(ROOT)) for p in (ROOT / "course_lib").rglob("*.py")}
    assert packaged == here, f"wheel and course_lib differ: {sorted(packaged ^ here)[:5]}"
    html = (built_site / "book" / "appendix" / "running.html").read_text()
    assert f'href="../../{wheel.name}"' in html
    text = html_module.unescape(re.sub(r"<[^>]+>", "", html))  # the command, highlighted in spans
    assert f'python -m pip install "{wheel.name}[lab]"' in text


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory, built_site):
    """A new virtual environment with the site's wheel installed, and no other course_lib in sight."""
    work = tmp_path_factory.mktemp("fresh")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # this environment's packages, except course_lib (installed here as editable) and .pth files
    deps = work / "deps"
    deps.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if entry.name.lower().startswith(("course_lib", "__editable__", "_course_lib")) or entry.suffix == ".pth":
            continue
        (deps / entry.name).symlink_to(entry)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "deps_from_the_test.pth").write_text(str(deps) + "\n")
    wheel = _wheel(built_site)
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-index", "--quiet",
                              "--disable-pip-version-check", f"{wheel}[lab]"],
                             capture_output=True, text=True, cwd=work)
    assert install.returncode == 0, install.stdout + install.stderr
    return venv


def test_a_downloaded_chapter_runs_with_the_installed_wheel(fresh_venv, built_site, tmp_path):
    assert CHAPTER in {p.stem for p in chapters()}
    downloaded = built_site / "_sources" / "book" / f"{CHAPTER}.ipynb"
    assert downloaded.is_file(), "the chapter's download (the page's .ipynb source) is missing"
    folder = tmp_path / "downloads"
    folder.mkdir()
    notebook = nbformat.read(downloaded, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(
        "import sys, course_lib\nprint(sys.prefix)\nprint(course_lib.__file__)"))
    nbformat.write(notebook, folder / f"{CHAPTER}.ipynb")
    python = fresh_venv / "bin" / "python"
    kernels = tmp_path / "jupyter" / "kernels" / "fresh"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fresh venv", "language": "python"}))
    script = ("import nbformat, sys\nfrom nbclient import NotebookClient\n"
              f"nb = nbformat.read({str(folder / (CHAPTER + '.ipynb'))!r}, as_version=4)\n"
              f"NotebookClient(nb, timeout=300, kernel_name='fresh', resources={{'metadata': {{'path': {str(folder)!r}}}}}).execute()\n"
              "print(''.join(nb.cells[0].outputs[0].text))\n"
              "print(sum(1 for c in nb.cells if c.cell_type == 'code' and c.outputs), 'cells with outputs')\n")
    env = {"PATH": f"{fresh_venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "JUPYTER_PATH": str(tmp_path / "jupyter"),
           "JUPYTER_PLATFORM_DIRS": "1"}
    run = subprocess.run([str(python), "-c", script], capture_output=True, text=True, cwd=folder, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    prefix, location = run.stdout.splitlines()[:2]
    assert Path(prefix) == fresh_venv
    assert Path(location).is_relative_to(fresh_venv), f"course_lib imported from {location}, not the wheel"

"""Shared fixtures. The site is built once per test session, into a temporary folder.

The build starts in the background as soon as collection shows that a test needs the site, so
that it overlaps the library tests before the first site test: those keep about one core busy,
the build's widget drawing the other (2 minutes of a cold `make test` on two cores, otherwise
spent waiting). A test that needs the site waits for the build to end."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from site_fixtures import PREBUILT_SITE, chromium, site_url  # noqa: F401  (fixtures of the browser tests)

ROOT = Path(__file__).resolve().parents[1]
_BUILD = {}  # the session's site build: its process, output folder and log


def _start_site_build() -> None:
    out = Path(tempfile.mkdtemp(prefix="book-site-"))
    log = (out / "build.log").open("w")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    # its own process group, so that its widget-drawing workers stop with it
    process = subprocess.Popen(
        [str(jupyter_book), "build", str(ROOT), "--warningiserror", "--keep-going", "--path-output", str(out)],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    _BUILD.update(process=process, out=out, log=log)


def pytest_collection_finish(session):
    if PREBUILT_SITE or session.config.option.collectonly:
        return
    if any("built_site" in getattr(item, "fixturenames", ()) for item in session.items):
        _start_site_build()


def pytest_sessionfinish(session):
    process = _BUILD.get("process")
    if process is None:
        return
    if process.poll() is None:  # the session ended before the build (-x, Ctrl-C)
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
    _BUILD["log"].close()
    shutil.rmtree(_BUILD["out"], ignore_errors=True)


@pytest.fixture(scope="session")
def built_site() -> Path:
    """Build the book exactly as `make book` does (warnings are errors) and return its html folder."""
    if PREBUILT_SITE:  # an already built site (tests/site_fixtures.py)
        return Path(PREBUILT_SITE)
    if "process" not in _BUILD:  # asked for by a test that collection did not show
        _start_site_build()
    returncode = _BUILD["process"].wait()
    _BUILD["log"].flush()
    log = (_BUILD["out"] / "build.log").read_text(errors="replace")
    assert returncode == 0, f"the book build failed (exit {returncode}):\n{log[-9000:]}"
    return _BUILD["out"] / "_build" / "html"

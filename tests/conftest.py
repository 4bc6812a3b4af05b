"""Shared fixtures. The site is built once per test session, into a temporary folder."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from site_fixtures import PREBUILT_SITE, chromium, site_url  # noqa: F401  (fixtures of the browser tests)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """Build the book exactly as `make book` does (warnings are errors) and return its html folder."""
    if PREBUILT_SITE:  # an already built site (tests/site_fixtures.py)
        return Path(PREBUILT_SITE)
    out = tmp_path_factory.mktemp("site")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--warningiserror", "--keep-going", "--path-output", str(out)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, f"the book build failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    return out / "_build" / "html"

"""Run every benchmark in this folder, one after the other, each in its own process (`make benchmarks`).

    .venv/bin/python benchmarks/run_all.py                 # all of them, in the order below
    .venv/bin/python benchmarks/run_all.py --build         # build the website first (as `make book`)
    .venv/bin/python benchmarks/run_all.py widgets site_speed   # some of them, by name

The library's benchmarks come first, then the chapters' run times and the live widgets in
JupyterLab, then the website's (site_speed.py, site_widgets.py), which measure the site built in
_build/html: without one they are skipped, and said to be (build it with `make book`, or pass
``--build``); a site older than its sources is measured with a note saying so. A script that
fails does not stop the others; the summary at the end lists what failed or was skipped, and the
exit status is 1 when any failed.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SITE = ROOT / "_build" / "html"
ORDER = ["optim_step", "trajectory_2d", "train_epoch", "widgets", "notebooks", "widgets_live",
         "site_speed", "site_widgets"]
NEEDS_SITE = {"site_speed", "site_widgets"}


def scripts() -> list[str]:
    """The benchmarks in ORDER, then any other script of the folder (none is left out)."""
    found = {p.stem for p in HERE.glob("*.py") if p.name != "run_all.py"}
    return [name for name in ORDER if name in found] + sorted(found - set(ORDER))


def build_site() -> bool:
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    print("=== building the website (jupyter-book build . --warningiserror --keep-going) ===", flush=True)
    return subprocess.run([str(jupyter_book), "build", ".", "--warningiserror", "--keep-going"], cwd=ROOT).returncode == 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (file names without .py); default: all")
    parser.add_argument("--build", action="store_true", help="build the website into _build/html first")
    args = parser.parse_args(argv)
    names = scripts()
    unknown = sorted(set(args.names) - set(names))
    if unknown:
        parser.error(f"no benchmark named {unknown}; there are {names}")
    if args.names:
        names = [name for name in names if name in args.names]
    failed, skipped = [], []
    if args.build and NEEDS_SITE & set(names) and not build_site():
        failed.append("the website build")
    for name in names:
        print(f"\n=== {name}.py ===", flush=True)
        if name in NEEDS_SITE and not (SITE / "index.html").is_file():
            print(f"SKIPPED: {name}.py measures the built website and there is none in {SITE.relative_to(ROOT)}; "
                  "build it with `make book` (or run this with --build)", flush=True)
            skipped.append(name)
            continue
        start = time.perf_counter()
        code = subprocess.run([sys.executable, str(HERE / f"{name}.py")], cwd=ROOT).returncode
        print(f"--- {name}.py: {'done' if code == 0 else f'FAILED (exit status {code})'} "
              f"in {time.perf_counter() - start:.0f} s", flush=True)
        if code:
            failed.append(name)
    print(f"\n=== {len(names) - len(failed) - len(skipped)} of {len(names)} benchmarks ran; "
          f"failed: {', '.join(failed) or 'none'}; skipped: {', '.join(skipped) or 'none'} ===")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Widgets tested live, in the notebooks' own stack (JupyterLab, as `make lab`) on localhost.

Every chapter with widgets is copied into a temporary folder (JupyterLab may autosave what it
runs; the committed notebooks stay as they are), opened in headless Chromium and run from the
top in a fresh kernel. Then one control of each widget is moved a few times (a slider by the
arrow keys; else a checkbox, a radio button or a button clicked, or a drop-down set to another
option), and each move must change
the widget's figure. The time from the key press or click to the new figure, decoded and ready
to paint, is recorded per move; the median per chapter goes to
``_build/benchmarks/widgets_live.json`` and is printed; a screenshot of each widget after its
moves goes to ``_build/screenshots/live-*.png``. The server is stopped at the end.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from site_fixtures import BENCHMARKS, ROOT, SCREENSHOTS, source_of, toc_docnames, visit, widget_state

LIVE_DOCNAMES = [d for d in toc_docnames() if widget_state(source_of(d))]
MOVES_PER_WIDGET = 3
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"

# JupyterLab settings for a quiet, deterministic run: every cell attached to the page, no
# news, no update check, no autosave.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}

# Open a notebook in the running JupyterLab page, start its kernel, run every cell; returns the
# panel's DOM id. (One JupyterLab page serves all chapters.)
OPEN_AND_RUN = """async (path) => {
  const app = window.jupyterapp;
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  app.shell.activateById(panel.id);
  await panel.context.ready;
  await panel.sessionContext.ready;
  const ok = await app.commands.execute('notebook:run-all-cells');
  return {ok, id: panel.id, kernel: panel.sessionContext.session?.kernel?.name};
}"""

CLOSE = """async (id) => {
  const panel = Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.id === id);
  await panel.sessionContext.shutdown();
  panel.context.model.dirty = false;  // nothing to save: close without asking
  panel.close();
}"""

# The displayed widgets: output areas holding a widget view, in notebook order.
WIDGET_OUTPUTS = "#{panel} .jp-OutputArea-output:has(.jupyter-widgets)"

FIGURES_SHOWN = """(selector) => Array.from(document.querySelectorAll(selector)).every(area =>
  Array.from(area.querySelectorAll('img')).some(img => img.complete && img.naturalWidth > 0))"""

# Before a move: remember the figure and resolve, after the next key press, click or input, with the
# milliseconds until the figure's image has changed and is decoded.
ARM = """(area) => {
  const sources = () => Array.from(area.querySelectorAll('img'), img => img.src).join(' ');
  const before = sources();
  let t0 = null;
  const start = () => { if (t0 === null) t0 = performance.now(); };
  for (const type of ['keydown', 'mousedown', 'input', 'change']) {  // whichever comes first
    document.addEventListener(type, start, {capture: true, once: true});
  }
  window.__figureChanged = new Promise(resolve => {
    const observer = new MutationObserver(async () => {
      if (sources() === before) return;
      observer.disconnect();
      await Promise.all(Array.from(area.querySelectorAll('img'), img => img.decode().catch(() => null)));
      resolve(performance.now() - t0);
    });
    observer.observe(area, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
  });
}"""

WAIT_FOR_FIGURE = """async (timeout) => Promise.race([window.__figureChanged,
  new Promise(resolve => setTimeout(() => resolve(null), timeout))])"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(root_dir: Path, work: Path, timeout: float = 60.0):
    """Run JupyterLab on a free localhost port, serving ``root_dir``; yields its URL; stops it."""
    settings = work / "settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port = free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(work / "config"), JUPYTER_RUNTIME_DIR=str(work / "runtime"),
               IPYTHONDIR=str(work / "ipython"))
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
               "--ServerApp.password=", "--allow-root", "--ServerApp.terminals_enabled=False",
               f"--ServerApp.root_dir={root_dir}", "--LabApp.expose_app_in_browser=True",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={work / 'workspaces'}"]
    log = open(work / "jupyterlab.log", "w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root_dir,
                              start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert server.poll() is None, "JupyterLab stopped:\n" + (work / "jupyterlab.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(url + "api/status", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "JupyterLab did not start in time"
            time.sleep(0.3)
        yield url
    finally:
        server.send_signal(signal.SIGTERM)  # JupyterLab shuts its kernels down and exits
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)  # the server's own process group (new session)
            server.wait(timeout=10)
        log.close()


def widgets_in_notebook(path: Path) -> int:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return sum(WIDGET_VIEW_MIME in output.get("data", {})
               for cell in cells if cell["cell_type"] == "code" for output in cell.get("outputs", []))


def move_control(page, area) -> str:
    """Move the widget's first control once; return what was done."""
    handle = area.locator(".noUi-handle").first
    if handle.count():
        now, high = (float(handle.get_attribute(a)) for a in ("aria-valuenow", "aria-valuemax"))
        key = "ArrowRight" if now < high else "ArrowLeft"
        handle.focus()
        page.keyboard.press(key)
        return f"slider {key}"
    checkbox = area.locator("input[type=checkbox]").first
    if checkbox.count():
        checkbox.click()
        return "checkbox click"
    select = area.locator("select").first
    if select.count():
        select.select_option(index=select.evaluate("s => (s.selectedIndex + 1) % s.options.length"))
        return "drop-down"
    for selector in ["input[type=radio]:not(:checked)", ".widget-toggle-buttons button:not(.mod-active)",
                     "button.widget-toggle-button", "button.jupyter-button"]:
        target = area.locator(selector).first
        if target.count():
            target.click()
            return f"click {selector}"
    raise AssertionError("no control found in the widget")


def exercise_notebook(page, lab_path: str, notebook: Path):
    """Open and run ``lab_path`` in the JupyterLab page; move one control of each widget.

    Returns ({"widgets", "moves", "median_ms", "run_all_seconds", "seconds", "per_widget"}, [problems]).
    """
    problems = []
    started = time.monotonic()
    run = page.evaluate(OPEN_AND_RUN, lab_path)
    run_seconds = time.monotonic() - started
    assert run["ok"] and run["kernel"] == "python3", f"{lab_path}: running all cells failed ({run})"
    expected = widgets_in_notebook(notebook)
    selector = WIDGET_OUTPUTS.format(panel=run["id"])
    page.wait_for_function(f"() => document.querySelectorAll('{selector}').length >= {expected}", timeout=30000)
    page.wait_for_function(FIGURES_SHOWN, arg=selector, timeout=30000)
    outputs = page.locator(selector)
    widgets = []
    for i in range(outputs.count()):
        area = outputs.nth(i)
        area.scroll_into_view_if_needed()
        times = []
        for _ in range(MOVES_PER_WIDGET):
            area.evaluate(ARM)
            action = move_control(page, area)
            elapsed = page.evaluate(WAIT_FOR_FIGURE, 15000)
            if elapsed is None:
                problems.append(f"widget {i + 1}: {action} did not change the figure")
                break
            times.append(elapsed)
        widgets.append({"widget": i + 1, "control": action, "ms": [round(t, 1) for t in times]})
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        area.screenshot(path=SCREENSHOTS / f"live-{Path(lab_path).stem}-widget{i + 1}.png")
    if len(widgets) != expected:
        problems.append(f"{len(widgets)} widgets shown live, {expected} in the notebook")
    page.evaluate(CLOSE, run["id"])
    all_times = [t for w in widgets for t in w["ms"]]
    result = {"widgets": len(widgets), "moves": len(all_times),
              "median_ms": round(statistics.median(all_times), 1) if all_times else None,
              "run_all_seconds": round(run_seconds, 1), "seconds": round(time.monotonic() - started, 1),
              "per_widget": widgets}
    return result, problems


@pytest.mark.browser
def test_widgets_respond_live(chromium, tmp_path):
    assert LIVE_DOCNAMES, "no chapter has widgets (the guide asks for at least two per chapter)"
    notebooks = tmp_path / "notebooks"
    shutil.copytree(ROOT / "book", notebooks / "book")
    report, problems = {}, []
    started = time.monotonic()
    with jupyterlab(notebooks, tmp_path / "lab") as url, visit(chromium, url + "lab", url) as lab:
        lab.page.wait_for_function("() => window.jupyterapp?.shell", timeout=60000)
        for docname in LIVE_DOCNAMES:
            # the copy JupyterLab runs, which may be newer than the collection-time list
            report[docname], found = exercise_notebook(lab.page, f"{docname}.ipynb", notebooks / f"{docname}.ipynb")
            problems += [f"{docname}: {p}" for p in found]
        # jupyterlab-myst logs every reference to another document, which it cannot resolve in the
        # lab, as a console error; that message is its limitation, not a widget problem.
        problems += [p for p in lab.problems() if "Cross reference target was not found" not in p]
    report = {"chapters": report, "seconds": round(time.monotonic() - started, 1),
              "what": "ms from a key press, click or input on a widget control (JupyterLab, headless "
                      "Chromium) to the widget's new figure decoded; median over all moves of the chapter"}
    BENCHMARKS.mkdir(parents=True, exist_ok=True)
    (BENCHMARKS / "widgets_live.json").write_text(json.dumps(report, indent=2) + "\n")
    for docname, result in report["chapters"].items():
        print(f"{docname}: {result['widgets']} widgets, {result['moves']} moves, "
              f"median change->new figure {result['median_ms']} ms")
    assert not problems, "\n".join(problems)

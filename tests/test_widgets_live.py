"""Widgets tested live, in the notebooks' own stack (JupyterLab, as `make lab`) on localhost.

Every chapter with widgets is copied into a temporary folder (JupyterLab may autosave what it
runs; the committed notebooks stay as they are). The copy keeps the chapter's text, its first code
cell (imports and the book's style) and every code cell that shows a widget; its other code cells,
the experiments (which nbval runs in full), are left out, and no widget needs them: a widget cell
that used a name they define would fail here. A last cell with the floor widget (below) is
appended, and the copy is opened in headless Chromium and run from the top in a fresh kernel,
with JupyterLab's default settings for the notebook's page. Then, per chapter:

- **Moves.** One control of each widget is moved a few times (a slider by the arrow keys; else a
  checkbox, a radio button or a button clicked, or a drop-down set to another option), and each
  move must change the widget's figure. The time from the key press or click to the new figure,
  decoded and ready to paint, is recorded per move; the kernel's own time per update (the
  widget's ``redraw``, timed inside that kernel) is recorded alongside. The first move waits
  until the page has settled after "run all" (idle for half a second; JupyterLab renders the
  chapter's text for seconds after the run): the time waited is reported too.
- **The floor.** The appended widget, whose callback only sends a precomputed 1-pixel PNG to an
  ``ipywidgets.Image``, is moved the same way and timed by the same code right after the
  chapter's widgets, in the same page and kernel: the kernel round trip and the browser's frame
  and decode, below which no widget can go. The report sets each chapter's median and p90 beside
  the floor's.
- **No backlog.** The slowest widget whose first control is a slider of many positions is
  dragged across its track with the mouse (40 pointer moves as fast as the browser takes them),
  then swept by a burst of arrow-key presses. The page sends the kernel at most one update at a
  time and holds back only the latest value (ipywidgets' message throttle), so after the release
  at most two updates may still be handled (the one in flight and the last value), and the
  figure left on the page must be the one for the slider's final position: its pixels equal
  those drawn after moving the slider one step away and back.

Median and p90 per chapter, the floor's, the kernel's update times and the gestures' timelines go
to ``_build/benchmarks/widgets_live.json`` (benchmarks/widgets_live.py prints them); with
``BOOK_SCREENSHOTS=1``, a screenshot of each widget after its moves goes to
``_build/screenshots/live-*.png`` (to look at; no check uses them). The server is stopped
at the end. ``WIDGETS_LIVE_CHAPTERS=book/ewma,book/momentum`` limits a run to those chapters.
"""
from __future__ import annotations

import ast
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

import nbformat
import pytest

from site_fixtures import (BENCHMARKS, FULL_PAGE_SCREENSHOTS, ROOT, SCREENSHOTS, source_of, toc_docnames,
                           visit, widget_state)

LIVE_DOCNAMES = [d for d in toc_docnames() if widget_state(source_of(d))]
MOVES_PER_WIDGET = 5
FLOOR_MOVES = 12     # floor moves after each chapter's moves
KEY_BURST = 15       # arrow-key presses sent without waiting, in the key-burst gesture
DRAG_STEPS = 40      # pointer moves of the mouse drag
MIN_GESTURE_POSITIONS = 10  # a slider dragged has at least this many positions
FIGURE_TIMEOUT_MS = 15000
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"

# JupyterLab settings for a quiet, deterministic run: no news, no update check, no autosave.
# Here the notebook's windowing stays JupyterLab's default ("contentVisibility": every cell in
# the page, the browser skips rendering those off screen), as a reader has it. The widgets'
# messages go to the kernel's main shell, as in every JupyterLab of the book's environment
# (`make lab`): the Makefile installs tools/jupyterlab-overrides.json as the lab's defaults, and
# the live test checks that they apply (LAB_OVERRIDES).
QUIET_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}
# jupyterlab()'s default (tests/test_lab_myst.py): also every cell attached and rendered. (There
# notebooks are opened and closed at once; with comms on kernel subshells, JupyterLab's own
# default, closing a notebook before its kernel had answered the request for a subshell threw an
# uncaught "Canceled future for create_subshell_request" on the busy machine: one more reason for
# the environment's override.)
LAB_SETTINGS = {**QUIET_SETTINGS,
                "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"}}

# The defaults the Makefile gives the environment's JupyterLab (widget messages on the kernel's
# main shell, not on JupyterLab 4.6's default subshell thread; measured in benchmarks/README.md).
LAB_OVERRIDES = ROOT / "tools" / "jupyterlab-overrides.json"


def lab_setting(url: str, plugin: str, key: str):
    """The value of ``key`` in the running JupyterLab: the user's setting, else the default (which
    the environment's overrides.json has replaced)."""
    with urllib.request.urlopen(f"{url}lab/api/settings/{plugin}", timeout=10) as response:
        data = json.load(response)
    return data["settings"].get(key, data["schema"]["properties"][key].get("default"))

# The trivial-update floor: a slider whose callback only swaps a precomputed 1-pixel PNG. It is
# appended as a last cell to each chapter's copy, so that it runs in the chapter's kernel and
# page (the same size of document for the browser to lay out).
FLOOR_CLASS = "live-floor"
FLOOR_SOURCE = '''import io
import ipywidgets as widgets
from PIL import Image as PILImage

def one_pixel_png(gray):
    buffer = io.BytesIO()
    PILImage.new("RGB", (1, 1), (gray, gray, gray)).save(buffer, format="png")
    return buffer.getvalue()

PNGS = [one_pixel_png(0), one_pixel_png(255)]  # alternate, so that every move changes the image
slider = widgets.IntSlider(value=50, min=0, max=100, description="floor")
image = widgets.Image(value=PNGS[0], format="png", layout=widgets.Layout(max_width="100%"))
slider.observe(lambda change: setattr(image, "value", PNGS[change["new"] % 2]), names="value")
widgets.VBox([widgets.HBox([slider]), image]).add_class("''' + FLOOR_CLASS + '''")'''

# Run in each chapter's kernel after its cells: time every FigureWidget.redraw (compute, redraw,
# PNG; what a control's change runs) in that kernel: (start, epoch ms; wall ms; CPU ms).
INSTRUMENT_KERNEL = '''def _time_redraws():
    import time
    from course_lib.widgets import _core
    cls = _core.FigureWidget
    if "_live_times" in cls.__dict__:
        return
    redraw = cls.redraw
    def timed(self):
        start, wall, cpu = time.time(), time.perf_counter(), time.process_time()
        redraw(self)
        cls._live_times.append((1e3 * start, 1e3 * (time.perf_counter() - wall), 1e3 * (time.process_time() - cpu)))
    cls._live_times = []
    cls.redraw = timed
_time_redraws()
del _time_redraws'''
KERNEL_TIMES = "__import__('course_lib.widgets._core', fromlist=['_']).FigureWidget.__dict__.get('_live_times')"
CLEAR_KERNEL_TIMES = "__import__('course_lib.widgets._core', fromlist=['_']).FigureWidget._live_times.clear()"

PANEL = "Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.id === id)"

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

CLOSE = f"""async (id) => {{
  const panel = {PANEL};
  await panel.sessionContext.shutdown();
  panel.context.model.dirty = false;  // nothing to save: close without asking
  panel.close();
}}"""

# Run code silently in the panel's kernel; returns the text of `expression` evaluated after it.
KERNEL_EVAL = f"""async ([id, code, expression]) => {{
  const panel = {PANEL};
  const future = panel.sessionContext.session.kernel.requestExecute(
    {{code, silent: true, store_history: false, user_expressions: expression ? {{result: expression}} : {{}}}});
  const reply = (await future.done).content;
  if (reply.status !== 'ok') return {{error: `${{reply.ename}}: ${{reply.evalue}}`}};
  const result = reply.user_expressions.result;
  if (!expression) return {{text: null}};
  return result.status === 'ok' ? {{text: result.data['text/plain']}} : {{error: result.evalue}};
}}"""

# The displayed widgets: output areas holding a widget view, in notebook order; the floor's.
WIDGET_OUTPUTS = f"#{{panel}} .jp-OutputArea-output:has(.jupyter-widgets):not(:has(.{FLOOR_CLASS}))"
FLOOR_OUTPUT = f"#{{panel}} .jp-OutputArea-output:has(.{FLOOR_CLASS})"

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

# ARM, then focus the widget's first slider handle and return the arrow key that moves it (toward
# its maximum unless it is there); null when the widget has no slider. One round trip to the page
# instead of five: on the busy machine each costs tens of milliseconds. It returns once the page
# is idle after the focus (JupyterLab makes the cell active), as it is when a reader presses the
# key: pressed at once, the key waited for that work (EWMA's moves: 117 ms median, against 59 ms
# with the wait and 59 ms with the five round trips, in the same hour).
ARM_SLIDER = """async (area) => {
  (""" + ARM + """)(area);
  const handle = area.querySelector('.noUi-handle');
  if (!handle) return null;
  handle.focus();
  await new Promise(resolve => requestIdleCallback(resolve, {timeout: 500}));
  const now = Number(handle.getAttribute('aria-valuenow')), high = Number(handle.getAttribute('aria-valuemax'));
  return now < high ? 'ArrowRight' : 'ArrowLeft';
}"""

WAIT_FOR_FIGURE = """async (timeout) => Promise.race([window.__figureChanged,
  new Promise(resolve => setTimeout(() => resolve(null), timeout))])"""

# The pixels of the widget's figure, as a reader sees them: SHA-256 of the decoded RGBA image(s).
FIGURE_DIGEST = """async (area) => {
  const digests = [];
  for (const img of area.querySelectorAll('img')) {
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(img, 0, 0);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', pixels));
    digests.push(Array.from(digest, b => b.toString(16).padStart(2, '0')).join(''));
  }
  return digests.join(' ');
}"""

# How many positions the widget's first slider has (noUiSlider's API, on its element).
SLIDER_POSITIONS = """(area) => {
  const target = area.querySelector('.noUi-target');
  if (!target) return 0;
  const {range, step} = target.noUiSlider.options;
  return Math.round((range.max - range.min) / step) + 1;
}"""

# Record a gesture on a slider: the widget updates the page sends to the kernel (comm messages),
# the kernel's "idle" after each (the update fully handled), every new figure (changed, decoded),
# every position the slider's handle passes, and the time of the last input (pointer release or
# key press).
GESTURE_START = """(area, id) => {
  const panel = """ + PANEL + """;
  const kernel = panel.sessionContext.session.kernel;
  const slider = area.querySelector('.noUi-target').noUiSlider;  // noUiSlider's API, on its element
  const g = {sent: new Map(), idle: new Map(), figures: [], decoding: 0, first: null, release: null, releaseEpoch: null,
             positions: [slider.get(true)], stable: 0};
  const onMessage = (_, {msg, direction}) => {
    if (direction === 'send' && msg.header.msg_type === 'comm_msg' && msg.content.data?.method === 'update') {
      g.sent.set(msg.header.msg_id, performance.now());
    } else if (direction === 'recv' && msg.header.msg_type === 'status' && msg.content.execution_state === 'idle'
               && g.sent.has(msg.parent_header?.msg_id)) {
      g.idle.set(msg.parent_header.msg_id, performance.now());
    }
  };
  kernel.anyMessage.connect(onMessage);
  const sources = () => Array.from(area.querySelectorAll('img'), img => img.src).join(' ');
  let shown = sources();
  const figures = new MutationObserver(() => {
    const now = sources();
    if (now === shown) return;
    shown = now;
    const changed = performance.now();
    g.decoding++;
    Promise.all(Array.from(area.querySelectorAll('img'), img => img.decode().catch(() => null))).then(() => {
      g.figures.push({changed, decoded: performance.now()});
      g.decoding--;
    });
  });
  figures.observe(area, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
  // every position the reader moves the slider to ('slide': user input only)
  slider.on('slide.gesture', (values, handle, unencoded) => {
    if (unencoded[0] !== g.positions.at(-1)) g.positions.push(unencoded[0]);
  });
  const onInput = () => {
    const t = performance.now();
    if (g.first === null) g.first = t;
    g.release = t;
    g.releaseEpoch = Date.now();  // the system clock, as the kernel's time.time() (performance's may drift)
  };
  const types = ['pointerdown', 'pointerup', 'keydown'];
  for (const type of types) document.addEventListener(type, onInput, {capture: true});
  g.stop = () => {
    kernel.anyMessage.disconnect(onMessage);
    figures.disconnect();
    slider.off('slide.gesture');
    for (const type of types) document.removeEventListener(type, onInput, {capture: true});
  };
  window.__gesture = g;
}"""

# True once every update sent has been handled by the kernel and every figure decoded, and that
# has held over three animation frames (the page sends a held-back update as soon as the previous
# one's "idle" arrives).
GESTURE_SETTLED = """() => {
  const g = window.__gesture;
  const handled = g.release !== null && g.sent.size > 0 && g.decoding === 0
                  && Array.from(g.sent.keys()).every(id => g.idle.has(id));
  g.stable = handled ? g.stable + 1 : 0;
  return g.stable >= 3;
}"""

GESTURE_RESULT = """() => {
  const g = window.__gesture;
  g.stop();
  const final = g.figures.length ? g.figures.at(-1).decoded : null;
  return {
    positions: g.positions.length - 1,      // slider positions passed
    updates: g.sent.size,                   // updates the kernel received (and drew)
    figures: g.figures.length,              // figures shown
    updates_after_release: Array.from(g.idle.values()).filter(t => t > g.release).length,
    gesture_ms: g.release - g.first,
    release_to_final_ms: final === null ? null : Math.max(0, final - g.release),
    value: g.positions.at(-1),
    release_epoch_ms: g.releaseEpoch,
    timeline_ms: {  // relative to the release
      sent: Array.from(g.sent.values(), t => Math.round(t - g.release)),
      idle: Array.from(g.idle.values(), t => Math.round(t - g.release)),
      figures: g.figures.map(f => Math.round(f.decoded - g.release))},
  };
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(root_dir: Path, work: Path, timeout: float = 60.0, lab_settings: dict = LAB_SETTINGS):
    """Run JupyterLab on a free localhost port, serving ``root_dir``, with ``lab_settings``
    (settings file -> values); yields its URL; stops it."""
    settings = work / "settings"
    for name, values in lab_settings.items():
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


def shows_a_widget(cell) -> bool:
    return any(WIDGET_VIEW_MIME in output.get("data", {}) for output in cell.get("outputs", []))


def prepare_copy(path: Path) -> None:
    """The notebook copy at ``path`` keeps its text, its first code cell and the cells that show
    widgets, and gets the floor widget's cell at the end."""
    notebook = nbformat.read(path, as_version=4)
    first = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    notebook.cells = [cell for i, cell in enumerate(notebook.cells)
                      if cell.cell_type != "code" or i == first or shows_a_widget(cell)]
    notebook.cells.append(nbformat.v4.new_code_cell(FLOOR_SOURCE))
    nbformat.write(notebook, path)


def summary(times: list[float]) -> dict:
    """Median and p90 (ms, one decimal) of ``times``."""
    if not times:
        return {"moves": 0, "median_ms": None, "p90_ms": None}
    p90 = statistics.quantiles(times, n=10, method="inclusive")[-1] if len(times) > 1 else times[0]
    return {"moves": len(times), "median_ms": round(statistics.median(times), 1), "p90_ms": round(p90, 1)}


def kernel_eval(page, panel_id: str, code: str = "", expression: str = ""):
    reply = page.evaluate(KERNEL_EVAL, [panel_id, code, expression])
    assert "error" not in reply, f"kernel code failed: {reply['error']}"
    return ast.literal_eval(reply["text"]) if expression else None


def open_and_run(page, lab_path: str, expected_widgets: int):
    """Open and run a notebook; wait until its widgets and the floor show their figures. Returns
    (panel id, selector of its widget outputs, seconds to run all cells)."""
    started = time.monotonic()
    run = page.evaluate(OPEN_AND_RUN, lab_path)
    seconds = time.monotonic() - started
    assert run["ok"] and run["kernel"] == "python3", f"{lab_path}: running all cells failed ({run})"
    selector = WIDGET_OUTPUTS.format(panel=run["id"])
    page.wait_for_function(f"() => document.querySelectorAll('{selector}').length >= {expected_widgets}",
                           timeout=30000)
    page.wait_for_function(FIGURES_SHOWN, arg=selector + ", " + FLOOR_OUTPUT.format(panel=run["id"]), timeout=30000)
    return run["id"], selector, seconds


def press(page, area, key: str) -> float | None:
    """Press ``key`` on the widget's first slider; ms until its new figure is decoded (None: none came)."""
    area.evaluate(ARM_SLIDER)  # armed and focused (its suggested key is not needed here)
    page.keyboard.press(key)
    return page.evaluate(WAIT_FOR_FIGURE, FIGURE_TIMEOUT_MS)


def move_control(page, area) -> str:
    """Move the first control of a widget without a slider once; return what was done."""
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


def time_moves(page, area, moves: int) -> tuple[str, list[float], bool]:
    """Move the widget's first control ``moves`` times, each time waiting for the new figure.
    Returns (what was moved, ms per move, whether every move changed the figure)."""
    times, action = [], ""
    for _ in range(moves):
        key = area.evaluate(ARM_SLIDER)
        if key:
            page.keyboard.press(key)
            action = f"slider {key}"
        else:
            action = move_control(page, area)
        elapsed = page.evaluate(WAIT_FOR_FIGURE, FIGURE_TIMEOUT_MS)
        if elapsed is None:
            return action, times, False
        times.append(elapsed)
    return action, times, True


def drag(page, area) -> None:
    """Drag the first slider's handle with the mouse across most of its track, quickly."""
    handle = area.locator(".noUi-handle").first
    track = area.locator(".noUi-target").first
    box, bar = handle.bounding_box(), track.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    left_half = x < bar["x"] + bar["width"] / 2
    target = bar["x"] + bar["width"] * (0.9 if left_half else 0.1)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(target, y, steps=DRAG_STEPS)
    page.mouse.up()


def key_burst(page, area) -> None:
    """Press an arrow key KEY_BURST times without waiting for the figure, as a held-down key."""
    handle = area.locator(".noUi-handle").first
    now, low, high = (float(handle.get_attribute(a)) for a in ("aria-valuenow", "aria-valuemin", "aria-valuemax"))
    key = "ArrowRight" if now - low < high - now else "ArrowLeft"
    handle.focus()
    for _ in range(KEY_BURST):
        page.keyboard.press(key)


def gesture(page, area, panel_id: str, perform, update_ms: float | None) -> tuple[dict, list[str]]:
    """Perform a fast gesture on the widget's first slider; check that no backlog is left and that
    the figure shown is the one for the slider's final position. Returns (result, problems)."""
    problems = []
    kernel_eval(page, panel_id, CLEAR_KERNEL_TIMES)
    area.evaluate(GESTURE_START, panel_id)
    perform(page, area)
    page.wait_for_function(GESTURE_SETTLED, polling="raf", timeout=60000)
    result = page.evaluate(GESTURE_RESULT)
    # the kernel's redraws, relative to the release: (start, duration) ms
    release = result.pop("release_epoch_ms")
    result["timeline_ms"]["kernel"] = [(round(start - release), round(wall))
                                       for start, wall, _ in kernel_eval(page, panel_id, expression=KERNEL_TIMES)]
    if update_ms and result["release_to_final_ms"] is not None:
        result["release_to_final_updates"] = round(result["release_to_final_ms"] / update_ms, 2)
    shown = area.evaluate(FIGURE_DIGEST)
    # the figure for the final position, drawn at rest: one step away and back, waiting each time
    handle = area.locator(".noUi-handle").first
    now, high = (float(handle.get_attribute(a)) for a in ("aria-valuenow", "aria-valuemax"))
    away, back = ("ArrowRight", "ArrowLeft") if now < high else ("ArrowLeft", "ArrowRight")
    if press(page, area, away) is None or press(page, area, back) is None:
        problems.append("a step away from and back to the final position did not change the figure")
    result["final_figure_matches"] = area.evaluate(FIGURE_DIGEST) == shown
    if result["positions"] < MIN_GESTURE_POSITIONS // 2:
        problems.append(f"the gesture passed only {result['positions']} slider positions")
    if not result["final_figure_matches"]:
        problems.append(f"after the gesture the figure is not the one for the final position {result['value']}")
    if result["updates_after_release"] > 2:
        problems.append(f"backlog: {result['updates_after_release']} updates handled after the release "
                        f"(at most the one in flight and the last value)")
    for key in ("gesture_ms", "release_to_final_ms"):
        if result[key] is not None:
            result[key] = round(result[key], 1)
    return result, problems


# Wait until the page has been idle for `quiet` ms (every idle period the browser gave in that
# time nearly its longest, 50 ms: no frame due and no task queued), at most `cap` ms; returns the
# ms waited. After "run all" the page stays busy for seconds rendering the chapter's text (3-10 s
# on the two-core machine; a CPU profile of the page showed mostly React and jupyterlab-myst's
# markdown renderer), and a move made then measures that work, not the widget: a chapter's first
# widget took 72-110 ms median and up to 304 ms unsettled, 42-59 ms median settled, in
# consecutive runs. A reader moves a control after reading, not during the run.
SETTLE = """async ([quiet, cap]) => {
  const start = performance.now();
  let since = start;
  return await new Promise(resolve => {
    const look = deadline => {
      const now = performance.now();
      if (deadline.didTimeout || deadline.timeRemaining() < 40) since = now;
      if (now - since >= quiet || now - start >= cap) resolve(Math.round(now - start));
      else requestIdleCallback(look, {timeout: 100});
    };
    requestIdleCallback(look, {timeout: 100});
  });
}"""
SETTLE_QUIET_MS = 500
SETTLE_CAP_MS = 20000


def exercise_notebook(page, lab_path: str, notebook: Path):
    """Open and run ``lab_path`` in the JupyterLab page; move one control of each widget; drag the
    slowest slider widget; move the floor widget.

    Returns (result dict for the report, [problems]).
    """
    problems = []
    started = time.monotonic()
    expected = widgets_in_notebook(notebook)
    panel_id, selector, run_seconds = open_and_run(page, lab_path, expected)
    kernel_eval(page, panel_id, INSTRUMENT_KERNEL)
    settle_ms = page.evaluate(SETTLE, [SETTLE_QUIET_MS, SETTLE_CAP_MS])
    outputs = page.locator(selector)
    widgets = []
    for i in range(outputs.count()):
        area = outputs.nth(i)
        area.scroll_into_view_if_needed()
        kernel_eval(page, panel_id, CLEAR_KERNEL_TIMES)
        action, times, changed = time_moves(page, area, MOVES_PER_WIDGET)
        if not changed:
            problems.append(f"widget {i + 1}: {action} did not change the figure")
        kernel = kernel_eval(page, panel_id, expression=KERNEL_TIMES) or []
        widgets.append({"widget": i + 1, "control": action, "ms": [round(t, 1) for t in times],
                        "median_ms": summary(times)["median_ms"],
                        "kernel_ms": round(statistics.median(w for _, w, _ in kernel), 1) if kernel else None,
                        "kernel_cpu_ms": round(statistics.median(c for _, _, c in kernel), 1) if kernel else None})
        if FULL_PAGE_SCREENSHOTS:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            area.screenshot(path=SCREENSHOTS / f"live-{Path(lab_path).stem}-widget{i + 1}.png")
    if len(widgets) != expected:
        problems.append(f"{len(widgets)} widgets shown live, {expected} in the notebook")

    # no backlog: the slowest widget whose first control is a slider of many positions, dragged
    # and key-swept
    sliders = [w for w in widgets if w["control"].startswith("slider") and w["median_ms"]
               and outputs.nth(w["widget"] - 1).evaluate(SLIDER_POSITIONS) >= MIN_GESTURE_POSITIONS]
    drags = {}
    if not sliders:
        problems.append(f"no widget whose first control is a slider of {MIN_GESTURE_POSITIONS}+ positions to drag")
    else:
        slowest = max(sliders, key=lambda w: w["median_ms"])
        area = outputs.nth(slowest["widget"] - 1)
        area.scroll_into_view_if_needed()
        for name, perform in (("drag", drag), ("keys", key_burst)):
            drags[name], found = gesture(page, area, panel_id, perform, slowest["median_ms"])
            drags[name]["widget"] = slowest["widget"]
            problems += [f"widget {slowest['widget']} {name}: {p}" for p in found]

    # the floor, in the same page and kernel, moved right after this chapter's widgets
    floor = page.locator(FLOOR_OUTPUT.format(panel=panel_id)).first
    floor.scroll_into_view_if_needed()
    _, floor_times, changed = time_moves(page, floor, FLOOR_MOVES)
    if not changed:
        problems.append("the floor widget's move did not change its image")
    page.evaluate(CLOSE, panel_id)

    times = [t for w in widgets for t in w["ms"]]
    kernel_ms = [w["kernel_ms"] for w in widgets if w["kernel_ms"] is not None]
    kernel_cpu_ms = [w["kernel_cpu_ms"] for w in widgets if w["kernel_cpu_ms"] is not None]
    ours, base = summary(times), summary(floor_times)
    result = {**ours, "widgets": len(widgets),
              "floor": base, "floor_ms": [round(t, 1) for t in floor_times],
              "over_floor_median_ms": round(ours["median_ms"] - base["median_ms"], 1)
              if ours["median_ms"] is not None and base["median_ms"] is not None else None,
              "over_floor_p90_ms": round(ours["p90_ms"] - base["p90_ms"], 1)
              if ours["p90_ms"] is not None and base["p90_ms"] is not None else None,
              "kernel_update_median_ms": round(statistics.median(kernel_ms), 1) if kernel_ms else None,
              "kernel_update_cpu_median_ms": round(statistics.median(kernel_cpu_ms), 1) if kernel_cpu_ms else None,
              "drag": drags, "run_all_seconds": round(run_seconds, 1), "settle_ms": settle_ms,
              "seconds": round(time.monotonic() - started, 1), "per_widget": widgets}
    return result, problems


def chapters_to_run() -> list[str]:
    chosen = os.environ.get("WIDGETS_LIVE_CHAPTERS")
    if not chosen:
        return LIVE_DOCNAMES
    names = [name.strip() for name in chosen.split(",") if name.strip()]
    unknown = sorted(set(names) - set(LIVE_DOCNAMES))
    assert not unknown, f"WIDGETS_LIVE_CHAPTERS names {unknown}, not chapters with widgets {LIVE_DOCNAMES}"
    return names


@pytest.mark.browser
def test_widgets_respond_live(chromium, tmp_path):
    assert LIVE_DOCNAMES, "no chapter has widgets (the guide asks for at least two per chapter)"
    notebooks = tmp_path / "notebooks"
    shutil.copytree(ROOT / "book", notebooks / "book")
    for docname in chapters_to_run():
        prepare_copy(notebooks / f"{docname}.ipynb")
    report, problems = {}, []
    started = time.monotonic()
    with (jupyterlab(notebooks, tmp_path / "lab", lab_settings=QUIET_SETTINGS) as url,
          visit(chromium, url + "lab", url) as lab):
        # the page's plugins all activated (on a busy machine the shell exists well before)
        lab.page.wait_for_function("() => window.jupyterapp?.shell", timeout=60000)
        lab.page.evaluate("async () => { await window.jupyterapp.restored; }")
        lab.page.wait_for_function("() => ['docmanager:open', 'notebook:run-all-cells'].every("
                                   "c => window.jupyterapp.commands.hasCommand(c))", timeout=60000)
        for plugin, values in json.loads(LAB_OVERRIDES.read_text()).items():
            for key, value in values.items():
                found = lab_setting(url, plugin, key)
                assert found == value, (f"JupyterLab has {plugin} {key} = {found!r}, not {value!r}: "
                                        f"{LAB_OVERRIDES.name} is not installed (make .venv/.runtime)")
        for docname in chapters_to_run():
            # the copy JupyterLab runs, which may be newer than the collection-time list
            report[docname], found = exercise_notebook(lab.page, f"{docname}.ipynb",
                                                       notebooks / f"{docname}.ipynb")
            problems += [f"{docname}: {p}" for p in found]
        # jupyterlab-myst logs every reference to another document, which it cannot resolve in the
        # lab, as a console error; that message is its limitation, not a widget problem.
        problems += [p for p in lab.problems() if "Cross reference target was not found" not in p]
    floor_times = [t for row in report.values() for t in row["floor_ms"]]
    report = {"chapters": report, "floor": summary(floor_times), "seconds": round(time.monotonic() - started, 1),
              "what": "ms from a key press, click or input on a widget control (JupyterLab, headless "
                      "Chromium) to the widget's new figure decoded; median and p90 over the chapter's "
                      "moves, beside the same for a widget sending a precomputed 1-pixel PNG (the floor), "
                      "moved right after each chapter in the same page and kernel; kernel_ms, kernel_cpu_ms: the "
                      "widget's redraw timed in the kernel (wall clock, CPU; median per widget, then over widgets); "
                      "drag: a fast mouse drag and a key burst on the chapter's slowest slider widget"}
    BENCHMARKS.mkdir(parents=True, exist_ok=True)
    (BENCHMARKS / "widgets_live.json").write_text(json.dumps(report, indent=2) + "\n")
    for docname, row in report["chapters"].items():
        drag_row = row["drag"].get("drag", {})
        print(f"{docname}: {row['widgets']} widgets, {row['moves']} moves, change->new figure median "
              f"{row['median_ms']} ms, p90 {row['p90_ms']} ms; floor {row['floor']['median_ms']} / "
              f"{row['floor']['p90_ms']} ms; kernel {row['kernel_update_median_ms']} ms; drag: "
              f"{drag_row.get('positions')} positions, {drag_row.get('updates')} updates, "
              f"{drag_row.get('updates_after_release')} after release, final in "
              f"{drag_row.get('release_to_final_ms')} ms")
    print(f"floor over all chapters: {report['floor']}; {report['seconds']} s")
    assert not problems, "\n".join(problems)

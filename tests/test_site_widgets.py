"""The widgets on the static site respond without a kernel, and show what the Python widget draws.

For every widget of every chapter, in headless Chromium on the served site: the note above it
says what is precomputed; every control is moved as a reader moves it (keyboard on sliders,
each option of a drop-down, a click on a check box); after each move the figure on the page
(its canvas pixels) must equal, pixel for pixel, the figure the course_lib widget renders for
the values its controls now show; a slider dragged faster than its figures arrive must end on
the figure of its last position. A downloaded copy opened from files is checked the same way
on one widget. The time from each change to the frame that shows the new figure, and the
bytes each widget loads, go to ``_build/benchmarks/widget_response.json``.
"""
from __future__ import annotations

import base64
import importlib
import json
import shutil
import statistics
import sys

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from site_fixtures import BENCHMARKS, DESKTOP, ROOT, source_of, toc_docnames, visit, widget_state

sys.path.insert(0, str(ROOT / "tools"))
import widget_states  # noqa: E402

WIDGET_PAGES = [d for d in toc_docnames() if widget_state(source_of(d))]

CANVAS_PNG = """(name) => {
  const w = bookWidgets.widgets[name];
  return w.canvas.toDataURL('image/png');
}"""

SHOWN = """([name, index]) => bookWidgets.current(name).state === index"""


def page_specs(docname):
    """{widget name on the page: spec} from the notebook's saved state, as the build reads it."""
    state = widget_state(source_of(docname))
    specs = {}
    for model_id, model in state.items():
        spec = widget_states.parse_view(state, model_id)
        if spec is not None:
            widget_states.choose_grids(spec.controls)
            specs[f"{docname.replace('/', '-')}-{model_id[-6:]}"] = spec
    return specs


def canvas_pixels(page, name):
    uri = page.evaluate(CANVAS_PNG, name)
    return widget_states.pixels(base64.b64decode(uri.split(",", 1)[1]))


def moves(spec):
    """(control index, action) pairs that move every control, as a reader would."""
    for k, c in enumerate(spec.controls):
        if c.kind == "slider":
            for key in ("End", "ArrowLeft", "Home", "ArrowRight", "ArrowRight"):
                yield k, ("key", key)
        elif c.kind == "select":
            for option in list(range(len(c.labels)))[::-1]:
                yield k, ("select", option)
        else:
            yield k, ("click", None)
            yield k, ("click", None)


def expected_positions(spec, positions, k, action):
    """Where the control lands: slider keys move one step, then snap to the next precomputed one."""
    c = spec.controls[k]
    kind, arg = action
    new = list(positions)
    if kind == "key":
        n = len(c.labels)
        target = {"End": n - 1, "Home": 0, "ArrowLeft": max(positions[k] - 1, 0),
                  "ArrowRight": min(positions[k] + 1, n - 1)}[arg]
        if target not in c.grid:
            target = (min(p for p in c.grid if p >= target) if target > positions[k]
                      else max(p for p in c.grid if p <= target))
        new[k] = target
    elif kind == "select":
        new[k] = arg
    else:
        new[k] = 1 - positions[k]
    return new


def python_widget(class_path):
    module, _, name = class_path.rpartition(".")
    return getattr(importlib.import_module(module), name)()


def check_widget(page, name, spec, budget_moves=None):
    """Move every control of one widget; returns (problems, timings in ms)."""
    problems = []
    widget = page.locator(f'.book-widget[data-widget="{name}"]')
    note = page.evaluate("(name) => document.querySelector(`.book-widget[data-widget=\"${name}\"]`)"
                         ".previousElementSibling?.className || ''", name)
    if "book-widget-note" not in note:
        problems.append(f"{name}: no note above the widget saying what is precomputed")
    controls = widget.locator(".book-control input, .book-control select")
    controls.first.focus()  # the first touch loads the figures
    page.wait_for_function("(name) => bookWidgets.current(name).ready", arg=name, timeout=30000)
    python = python_widget(page.evaluate("(name) => bookWidgets.current(name).pythonClass", name))
    positions = [c.default for c in spec.controls]
    for count, (k, action) in enumerate(moves(spec)):
        if budget_moves is not None and count >= budget_moves:
            break
        control = controls.nth(k)
        kind, arg = action
        if kind == "key":
            control.focus()
            page.keyboard.press(arg)
        elif kind == "select":
            control.select_option(str(arg))
        else:
            control.click()
        positions = expected_positions(spec, positions, k, action)
        index = widget_states.state_index(spec.controls, positions)
        page.wait_for_function(SHOWN, arg=[name, index], timeout=10000)
        shown_positions = page.evaluate("(name) => bookWidgets.current(name).positions", name)
        if shown_positions != positions:
            problems.append(f"{name}: after {action} the controls show {shown_positions}, expected {positions}")
            positions = shown_positions
            continue
        problems += python_figure_problems(page, name, spec, python, positions)
    timings = [t["ms"] for t in page.evaluate("bookWidgets.timings") if t["widget"] == name]
    return problems, timings


def python_figure_problems(page, name, spec, python, positions):
    """[] if the page shows the figure the Python widget draws at ``positions``, else the problem."""
    python.set(**widget_states.python_values(python, spec, positions))
    expected = widget_states.pixels(python.image.value)
    shown = canvas_pixels(page, name)
    if shown.shape == expected.shape and np.array_equal(shown, expected):
        return []
    labels = {c.description: c.labels[p] for c, p in zip(spec.controls, positions)}
    return [f"{name}: at {labels} the page shows another figure than the Python widget"]


DRAG = """([name, k, values]) => {
  const input = bookWidgets.widgets[name].controls[k].input;
  for (const value of values) { input.value = String(value); input.dispatchEvent(new Event('input')); }
}"""


def fast_drag_problems(page, name, spec):
    """Each slider dragged end to end and back to its middle in one go (every figure requested
    before any is composed): the figure must end on the last setting and stay there, not on one
    composed late."""
    problems = []
    python = python_widget(page.evaluate("(name) => bookWidgets.current(name).pythonClass", name))
    positions = page.evaluate("(name) => bookWidgets.current(name).positions", name)
    for k, c in enumerate(spec.controls):
        if c.kind != "slider":
            continue
        sweep = c.grid[::-1] + c.grid[:len(c.grid) // 2 + 1]
        page.evaluate(DRAG, [name, k, sweep])
        positions[k] = sweep[-1]
        index = widget_states.state_index(spec.controls, positions)
        page.wait_for_timeout(300)  # time for a figure of an earlier setting to arrive late
        try:
            page.wait_for_function(SHOWN, arg=[name, index], timeout=10000)
        except PlaywrightTimeout:
            pass
        if page.evaluate("(name) => bookWidgets.current(name).state", name) != index:
            problems.append(f"{name}: after a fast drag of {c.description!r} an earlier figure replaced the last one")
        problems += python_figure_problems(page, name, spec, python, positions)
    return problems


@pytest.mark.parametrize("docname", WIDGET_PAGES)
def test_saved_widget_figures_are_what_the_widgets_draw(docname):
    """The figure a chapter saved for each widget is what its course_lib widget draws now at the
    saved values (else the chapter was executed with older code: run `make notebooks`). The site
    shows the widget's current drawing either way; the downloaded notebook shows the saved one."""
    stale = [name for name, spec in page_specs(docname).items()
             if not widget_states.saved_figure_is_current(spec, docname.rsplit("/", 1)[-1])]
    assert not stale, f"{docname}: saved figures out of date for {stale}; re-run the chapter with make notebooks"


@pytest.fixture(scope="module")
def widget_report(built_site):
    report = {}
    yield report
    BENCHMARKS.mkdir(parents=True, exist_ok=True)
    (BENCHMARKS / "widget_response.json").write_text(json.dumps(report, indent=2) + "\n")


@pytest.mark.browser
@pytest.mark.parametrize("docname", WIDGET_PAGES)
def test_every_control_of_every_widget_shows_the_python_figure(docname, chromium, site_url, built_site,
                                                               widget_report):
    specs = page_specs(docname)
    assert specs, f"{docname}: no FigureWidget in its saved state"
    problems = []
    with visit(chromium, f"{site_url}{docname}.html", site_url, DESKTOP) as loaded:
        page = loaded.page
        on_page = page.evaluate("Object.keys(bookWidgets.widgets)")
        assert sorted(on_page) == sorted(specs), f"{docname}: widgets on the page {on_page}, saved {list(specs)}"
        for name, spec in specs.items():
            found, timings = check_widget(page, name, spec)
            problems += found + fast_drag_problems(page, name, spec)
            states = built_site / "_static" / "widget-states" / f"{name}.js"
            widget_report[name] = {
                "page": docname, "states": spec.states, "bytes": states.stat().st_size,
                "changes": len(timings), "median_ms": round(statistics.median(timings), 1) if timings else None,
                "max_ms": round(max(timings), 1) if timings else None}
        problems += loaded.problems()
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_widget_responds_in_a_copy_opened_from_files(chromium, built_site, tmp_path):
    copy = tmp_path / "downloaded-html"
    shutil.copytree(built_site, copy)
    docname = WIDGET_PAGES[0]
    name, spec = next(iter(page_specs(docname).items()))
    with visit(chromium, (copy / f"{docname}.html").as_uri(), "file://") as loaded:
        problems, _ = check_widget(loaded.page, name, spec, budget_moves=4)
        problems += loaded.problems()
    assert not problems, "\n".join(problems)

"""The book's widgets on the static website: every state a reader can choose, drawn ahead of time.

A chapter stores each widget's saved state (``make notebooks``): a ``VBox`` holding a row of
controls and an ``Image`` with the default figure, the shape every
:class:`course_lib.widgets._core.FigureWidget` has. From that state alone this module reads the
controls (their labels, ranges and readouts) and chooses the *grid* of settings to precompute:

- every position of every drop-down, check box and selection slider;
- every position of the sliders too when the product stays within ``MAX_STATES``; otherwise
  the sliders are coarsened (every k-th position, the largest grids first), always keeping
  both ends and the saved default.

It then finds the widget's class in ``course_lib.widgets`` (same controls; its rendering of the
saved values must equal the saved figure), drives it with ``set(...)`` over the grid, and
writes one script per widget: for each drop-down/check-box setting a *base* figure, and for
each state the pixels that differ from its base (both lossless WebP, so base + difference is
exactly the widget's figure; the moving curves are a few percent of the pixels, which makes the
states about three times smaller than whole figures). The page loads that script on the
reader's first touch (a ``<script>``, so it works from ``file://`` too) and draws the states on
a canvas as controls move: ``book/_static/book-widgets.js``.

The states are cached in ``_build/.widget-states`` under a hash of ``course_lib``'s source,
``FORMAT`` and the widget's saved state, so an unchanged book rebuilds in seconds.
"""
from __future__ import annotations

import base64
import hashlib
import importlib
import inspect
import io
import json
import math
import pkgutil
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "_build" / ".widget-states"
MAX_STATES = 160          # figures per widget: 1-2 MB, loaded on the first touch
SLIDERS = {"FloatSliderModel", "IntSliderModel", "FloatLogSliderModel"}
OPTIONS = {"DropdownModel", "SelectionSliderModel", "ToggleButtonsModel", "RadioButtonsModel"}
CHECKBOX = {"CheckboxModel", "ToggleButtonModel"}
FORMAT = 2  # of the states scripts: change it with the drawing or encoding code below
WEBP = {"format": "webp", "lossless": True, "quality": 60, "method": 1}  # fast, within 2 % of the smallest


@dataclass
class Control:
    """One control as the page shows it: its full grid of positions and the precomputed ones."""
    model: str                # ipywidgets model name, e.g. "FloatSliderModel"
    description: str
    labels: list              # the readout of each position of the full grid
    default: int              # position of the saved value
    width: str = ""           # CSS width of the control (its layout)
    grid: list = field(default_factory=list)  # positions precomputed (sorted)

    @property
    def kind(self) -> str:
        if self.model in CHECKBOX:
            return "checkbox"
        if self.model == "DropdownModel" or self.model in OPTIONS - {"SelectionSliderModel"}:
            return "select"
        return "slider"


@dataclass
class WidgetSpec:
    """A saved FigureWidget view: its model id, controls and default figure (PNG bytes)."""
    model_id: str
    controls: list
    png: bytes = b""

    @property
    def states(self) -> int:
        return math.prod(len(c.grid) for c in self.controls)

    def key(self) -> str:
        """Identifies the figures to precompute (controls, grid, saved figure)."""
        payload = json.dumps([asdict(c) for c in self.controls], sort_keys=True).encode()
        return hashlib.sha256(payload + hashlib.sha256(self.png).digest()).hexdigest()[:20]


# --- reading the saved state ------------------------------------------------------------------
def d3_format(value, spec: str) -> str:
    """A number formatted as the widget's readout shows it (d3-format, as ipywidgets does).

    Covers the forms the book uses: ``.Nf``, ``.Ne``, ``.Ng``, ``d``; d3 writes a real minus
    sign, exponents without zero padding, and keeps the trailing zeros of ``g``.
    """
    match = re.fullmatch(r"(~)?\.?(\d*)([defg%])", spec)
    if not match:
        raise ValueError(f"readout_format {spec!r} is not supported")
    trim, digits, kind = match.groups()
    if kind == "d":
        text = str(int(round(value)))
    elif kind == "%":
        text = format(value * 100, f".{digits or 0}f") + "%"
    else:
        text = format(value, f"{'' if trim or kind != 'g' else '#'}.{digits or 6}{kind}")
        text = re.sub(r"e([+-])0*(\d)", r"e\1\2", text).rstrip(".") if kind != "f" else text
        if kind == "g" and "e" not in text:
            text = text.rstrip(".")
    return text.replace("-", "\u2212")


def _model(state: dict, ref: str) -> dict:
    return state[ref.replace("IPY_MODEL_", "")]


def _slider(model: str, s: dict) -> tuple[list, int]:
    n = int(round((s["max"] - s["min"]) / s["step"])) + 1
    position = int(round(((math.log(s["value"], s["base"]) if model == "FloatLogSliderModel" else s["value"])
                          - s["min"]) / s["step"]))
    fmt = s.get("readout_format") or {"IntSliderModel": "d", "FloatLogSliderModel": ".3g"}.get(model, ".2f")
    labels = []
    for i in range(n):
        x = s["min"] + i * s["step"]
        labels.append(d3_format(s["base"] ** x if model == "FloatLogSliderModel" else x, fmt))
    return labels, position


def parse_view(state: dict, model_id: str) -> WidgetSpec | None:
    """The FigureWidget shape (VBox[HBox[controls], Image]) of a saved view, else None."""
    top = state.get(model_id)
    if not top or top["model_name"] != "VBoxModel":
        return None
    children = top["state"].get("children", [])
    if len(children) != 2:
        return None
    row, image = (_model(state, ref) for ref in children)
    if row["model_name"] != "HBoxModel" or image["model_name"] != "ImageModel":
        return None
    controls = []
    for ref in row["state"].get("children", []):
        m = _model(state, ref)
        name, s = m["model_name"], m["state"]
        if name in SLIDERS:
            labels, position = _slider(name, s)
        elif name in OPTIONS:
            labels, position = list(s["_options_labels"]), s["index"]
        elif name in CHECKBOX:
            labels, position = ["off", "on"], int(bool(s["value"]))
        else:
            return None
        width = _model(state, s["layout"])["state"].get("width") or "" if s.get("layout") else ""
        controls.append(Control(name, s.get("description", ""), labels, position, width))
    png = b""
    for buffer in image.get("buffers", []):
        if buffer.get("path") == ["value"]:
            png = base64.b64decode(buffer["data"])
    if not controls or not png:
        return None
    return WidgetSpec(model_id, controls, png)


def choose_grids(controls: list, max_states: int = MAX_STATES) -> None:
    """Set each control's ``grid``: all positions, or every k-th for sliders when too many."""
    strides = [1] * len(controls)

    def grid(control, stride):
        n = len(control.labels)
        return sorted(set(range(0, n, stride)) | {n - 1, control.default})

    def coarsenable(i):  # a slider whose grid is more than its ends and its default
        return controls[i].kind == "slider" and controls[i].model != "SelectionSliderModel" \
            and strides[i] < len(controls[i].labels) - 1

    while math.prod(len(grid(c, k)) for c, k in zip(controls, strides)) > max_states:
        candidates = [i for i in range(len(controls)) if coarsenable(i)]
        if not candidates:
            break
        i = max(candidates, key=lambda j: len(grid(controls[j], strides[j])))
        strides[i] += 1
    for control, stride in zip(controls, strides):
        control.grid = grid(control, stride)


def grid_description(control: Control) -> str:
    """Which positions of a control are precomputed, in words."""
    n = len(control.labels)
    if len(control.grid) == n:
        return f"{control.description}: all {n} settings"
    shown = [control.labels[p] for p in control.grid]
    if len(shown) > 6:
        steps = [b - a for a, b in zip(control.grid, control.grid[1:])]
        stride = max(set(steps), key=steps.count)
        shown = shown[:2] + ["\u2026"] + shown[-1:]
        return (f"{control.description}: {len(control.grid)} of its {n} positions "
                f"({', '.join(shown)}; every {stride} steps)")
    return f"{control.description}: {len(control.grid)} of its {n} positions ({', '.join(shown)})"


def state_index(controls: list, positions: list) -> int:
    """Index of a setting in the list of precomputed figures (row-major, last control fastest)."""
    index = 0
    for control, position in zip(controls, positions):
        index = index * len(control.grid) + control.grid.index(position)
    return index


def all_positions(controls: list) -> list:
    """Every precomputed setting, in :func:`state_index` order."""
    settings = [[]]
    for control in controls:
        settings = [s + [p] for s in settings for p in control.grid]
    return settings


# --- the Python widget ----------------------------------------------------------------------
def widget_classes(prefer: str = "") -> list:
    """Every concrete FigureWidget subclass in course_lib.widgets, those of ``prefer`` first."""
    import course_lib.widgets as package
    from course_lib.widgets._core import FigureWidget

    names = [m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")]
    names.sort(key=lambda name: name != prefer)
    classes = []
    for name in names:
        module = importlib.import_module(f"course_lib.widgets.{name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, FigureWidget) and cls.__module__ == module.__name__ \
                    and not cls.__name__.startswith("_") and not inspect.isabstract(cls):
                classes.append(cls)
    return classes


def python_value(control, model: str, position: int):
    """The value the Python control takes at a grid position (as the browser would send it)."""
    if model in SLIDERS:
        x = round(control.min + position * control.step, 12)
        if model == "FloatLogSliderModel":
            return control.base ** x
        return int(x) if model == "IntSliderModel" else x
    if model in OPTIONS:
        return control._options_values[position]
    return bool(position)


def python_values(widget, spec: WidgetSpec, positions: list) -> dict:
    return {name: python_value(control, c.model, p)
            for (name, control), c, p in zip(widget.controls.items(), spec.controls, positions)}


def pixels(image_bytes: bytes):
    import numpy as np
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(image_bytes)).convert("RGB"))


def _signature(widget) -> list:
    return [(type(c).__name__ + "Model", c.description) for c in widget.controls.values()]


def find_widget(spec: WidgetSpec, prefer: str = ""):
    """(class, instance, saved figure current?) of the course_lib widget whose controls are the
    saved ones; preferably the one whose figure at the saved values equals the saved figure.
    (None, reason, False) when no widget has these controls."""
    import numpy as np

    wanted = [(c.model, c.description) for c in spec.controls]
    saved = pixels(spec.png)
    reasons, candidate = [], None
    for cls in widget_classes(prefer):
        try:
            widget = cls()
        except Exception as error:  # a widget that cannot be built by default is not this one
            reasons.append(f"{cls.__name__}(): {error!r}")
            continue
        if _signature(widget) != wanted:
            continue
        widget.set(**python_values(widget, spec, [c.default for c in spec.controls]))
        shown = pixels(widget.image.value)
        if shown.shape == saved.shape and np.array_equal(shown, saved):
            return cls, widget, True
        candidate = candidate or (cls, widget, False)
    if candidate:
        return candidate
    return None, "; ".join(reasons) or f"no course_lib widget has the controls {wanted}", False


def saved_figure_is_current(spec: WidgetSpec, prefer: str = "") -> bool:
    """Does the widget draw the saved figure at the saved values (or was the chapter executed
    with older code, and needs `make notebooks`)?"""
    return find_widget(spec, prefer)[2]


def webp(rgba) -> bytes:
    """Lossless WebP of an RGB or RGBA array: exactly the widget's pixels."""
    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, **WEBP)
    return buffer.getvalue()


def difference(image, base):
    """The pixels of ``image`` that differ from ``base``, opaque; the others transparent.
    Drawn over ``base`` it gives ``image`` exactly (every alpha is 0 or 255)."""
    import numpy as np
    differs = image != base
    changed = differs[..., 0] | differs[..., 1] | differs[..., 2]  # 2.5x faster than .any(axis=-1)
    rgba = np.zeros(image.shape[:2] + (4,), dtype=np.uint8)
    rgba[changed, :3] = image[changed]
    rgba[changed, 3] = 255
    return rgba


def group_key(spec: WidgetSpec, positions: list) -> tuple:
    """States that share their drop-down and check-box settings share a base figure."""
    return tuple(p for c, p in zip(spec.controls, positions) if c.kind != "slider")


def render_states(spec: WidgetSpec, prefer: str = "") -> tuple[str, list, list, bytes]:
    """(class path, bases, states, default PNG) drawn by the widget itself: ``bases`` are full WebP figures,
    one per drop-down/check-box setting; each state is ``[base index, WebP of the pixels that
    differ from the base]`` (``None`` when none differ), in :func:`state_index` order."""
    cls, widget, _ = find_widget(spec, prefer)
    if cls is None:
        raise LookupError(widget)
    default_png = widget.image.value  # at the saved values: what the page shows first
    base_of, bases, base_pixels, states = {}, [], [], []
    for positions in all_positions(spec.controls):
        widget.set(**python_values(widget, spec, positions))
        image = pixels(widget.image.value)
        key = group_key(spec, positions)
        if key not in base_of:
            base_of[key] = len(bases)
            bases.append(webp(image))
            base_pixels.append(image)
        k = base_of[key]
        same = image.shape == base_pixels[k].shape and (image == base_pixels[k]).all()
        if image.shape != base_pixels[k].shape:
            raise ValueError(f"{cls.__name__}: the figure changed size between settings")
        states.append([k, None if same else webp(difference(image, base_pixels[k]))])
    return f"{cls.__module__}.{cls.__name__}", bases, states, default_png


def _uri(data: bytes | None):
    return None if data is None else "data:image/webp;base64," + base64.b64encode(data).decode()


def states_script(name: str, class_path: str, spec: WidgetSpec, bases: list, states: list) -> str:
    """The script the page loads on the first touch: ``bookWidgets.loaded(name, {...})``."""
    payload = {"widget": class_path, "grids": [c.grid for c in spec.controls],
               "bases": [_uri(b) for b in bases], "states": [[k, _uri(d)] for k, d in states]}
    return f"bookWidgets.loaded({json.dumps(name)}, {json.dumps(payload)});\n"


def source_hash() -> str:
    """Changes whenever course_lib or FORMAT changes (then every cached figure is redrawn)."""
    digest = hashlib.sha256(f"{FORMAT}{WEBP}".encode())
    for path in sorted((ROOT / "course_lib").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:20]


def _job(args) -> tuple[str, str | None, str]:
    """Worker: write one widget's states script into the cache; (name, error, cache path)."""
    name, spec_json, prefer, cached = args
    spec = WidgetSpec(spec_json["model_id"], [Control(**c) for c in spec_json["controls"]],
                      base64.b64decode(spec_json["png"]))
    try:
        class_path, bases, states, default_png = render_states(spec, prefer)
    except Exception as error:
        return name, f"{type(error).__name__}: {error}", cached
    Path(cached).parent.mkdir(parents=True, exist_ok=True)
    Path(cached).write_text(states_script(name, class_path, spec, bases, states), encoding="utf-8")
    Path(cached).with_suffix(".png").write_bytes(default_png)
    return name, None, cached


def precompute(jobs: list, workers: int = 2) -> dict:
    """``jobs``: (name, spec, chapter module name). Returns {name: (script path or None, error)}."""
    version = source_hash()
    todo, results = [], {}
    for name, spec, prefer in jobs:
        cached = CACHE / f"{name}-{spec.key()}-{version}.js"
        if cached.is_file() and cached.with_suffix(".png").is_file():
            results[name] = (cached, None)
        else:
            spec_json = {"model_id": spec.model_id, "controls": [asdict(c) for c in spec.controls],
                         "png": base64.b64encode(spec.png).decode()}
            todo.append((name, spec_json, prefer, str(cached)))
    if todo:
        # the widgets with the most states first: the last job to end is then a short one
        todo.sort(key=lambda job: -math.prod(len(c["grid"]) for c in job[1]["controls"]))
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=get_context("spawn")) as pool:
            for name, error, cached in pool.map(_job, todo):
                results[name] = (None, error) if error else (Path(cached), None)
    for name, (kept, _) in results.items():  # older figures of the same widget go
        for old in CACHE.glob(f"{name}-*.*"):
            if kept is None or old.with_suffix("") != kept.with_suffix(""):
                old.unlink()
    return results


# --- the page -------------------------------------------------------------------------------
def widget_html(spec: WidgetSpec, name: str, states_url: str, image_url: str, size: tuple) -> str:
    """The note above the widget, its controls and its saved figure (wired by book-widgets.js)."""
    from html import escape

    parts = [f'<div class="admonition note book-widget-note"><p class="admonition-title">'
             f'Interactive figure, precomputed</p><p>The controls work on this page, without Python: '
             f'each setting shows the figure that the widget\u2019s own code drew for it when the '
             f'website was built, for {spec.states} settings ('
             + escape("; ".join(grid_description(c) for c in spec.controls))
             + '). They load when you first touch a control. To try every value live, download '
             'the notebook (the download button at the top of the page) and run it in Jupyter, '
             'or run <code>make lab</code> in a clone of the repository.</p></div>']
    parts.append(f'<div class="widget-subarea book-widget" data-widget="{escape(name)}" '
                 f'data-states="{escape(states_url)}"><div class="book-widget-controls">')
    for k, c in enumerate(spec.controls):
        ident = f"{name}-c{k}"
        width = f' style="min-width: min({escape(c.width)}, 100%)"' if c.width else ""  # longer labels widen it
        attrs = (f'class="widget-inline-hbox book-control" data-kind="{c.kind}" '
                 f"data-grid='{json.dumps(c.grid)}'")
        label = escape(c.description)
        if c.kind == "checkbox":
            checked = " checked" if c.default else ""
            parts.append(f'<div {attrs}{width}><input type="checkbox" id="{ident}"{checked}>'
                         f'<label class="widget-label" for="{ident}">{label}</label></div>')
        elif c.kind == "select":
            options = "".join(f'<option value="{i}"{" selected" if i == c.default else ""}>{escape(t)}</option>'
                              for i, t in enumerate(c.labels))
            parts.append(f'<div {attrs}{width}><label class="widget-label" for="{ident}">{label}</label>'
                         f'<select id="{ident}">{options}</select></div>')
        else:
            parts.append(f"<div {attrs} data-labels='{escape(json.dumps(c.labels, ensure_ascii=False))}'{width}>"
                         f'<label class="widget-label" for="{ident}">{label}</label>'
                         f'<input type="range" class="slider-container" id="{ident}" min="0" '
                         f'max="{len(c.labels) - 1}" step="1" value="{c.default}" '
                         f'aria-valuetext="{escape(c.labels[c.default])}">'
                         f'<output for="{ident}">{escape(c.labels[c.default])}</output></div>')
    alt = "Figure of the widget for " + ", ".join(
        f"{c.description} {c.labels[c.default]}" for c in spec.controls if c.kind != "checkbox")
    parts.append(f'</div><div class="book-widget-figure"><img loading="lazy" src="{escape(image_url)}" '
                 f'width="{size[0]}" height="{size[1]}" alt="{escape(alt)}">'
                 f'<span class="book-widget-status" role="status" hidden></span></div></div>')
    return "".join(parts)


def png_size(png: bytes) -> tuple:
    from PIL import Image
    return Image.open(io.BytesIO(png)).size

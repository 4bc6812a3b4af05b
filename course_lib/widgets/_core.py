"""The shape every widget of the book shares.

A :class:`FigureWidget` owns one matplotlib figure (object-oriented API, no pyplot state), a row
of ipywidgets controls and an ``ipywidgets.Image`` that shows the figure as PNG. Subclasses
build their artists once in :meth:`draw_initial` and move them in :meth:`update`
(``set_data``, ``set_ydata``, ``set_height``...); no figure is created per slider move. The
numbers come from tested course_lib functions: the widget only draws.

Speed: artists that change are *animated* (``self.animate(artist)``): the static rest of the
figure (axes, ticks, data points) is rendered once and cached; each update restores that
background and draws only the moving artists (blitting), then encodes the PNG with fast
compression (:func:`encode_png`). When an update changes what the static part shows (an axis'
limits, or the :meth:`~FigureWidget.background_key` a subclass defines: the surface shown, say), that
state's background is drawn in full and kept, so that going back to it later is as fast as an
update; a subclass may draw some ahead (:meth:`~FigureWidget.backgrounds_ahead`).
``benchmarks/widgets.py`` times the three parts of :meth:`FigureWidget.redraw`: ``update`` (compute
and move the artists), ``_render`` and ``_encode``.

Because the PNG lives in the Image widget's state, a notebook executed with the widget state
stored (``make notebooks``) shows each widget's default figure on the static website.

Tests and benchmarks drive a widget from code::

    w = EWMASeriesWidget()
    w.set(rho=0.95)            # same path as moving the slider
    w.lines["ewma"].get_ydata()  # what the reader now sees
"""
from __future__ import annotations

import functools
import struct
import zlib
from typing import Mapping

import numpy as np

import ipywidgets as widgets
import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from course_lib import plotting


CONTROL_WIDTH = "300px"


def _check_on_grid(name: str, control) -> None:
    """A slider's value must be one of its steps: the browser shows the nearest step, and the
    figure would silently belong to a value the reader does not see."""
    if isinstance(control, widgets.FloatLogSlider):
        position = (np.log(control.value) / np.log(control.base) - control.min) / control.step
    elif isinstance(control, (widgets.FloatSlider, widgets.IntSlider)):
        position = (control.value - control.min) / control.step
    else:
        return
    if abs(position - round(position)) > 1e-6:
        raise ValueError(f"control {name!r}: value {control.value!r} is not on the slider's grid "
                         f"(min {control.min}, step {control.step}); choose a value on it")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(rgb: np.ndarray) -> bytes:
    """A PNG file of the image ``rgb`` (uint8, shape (height, width, 3)), written directly with zlib.

    The PNG format (RFC 2083): the signature, an ``IHDR`` chunk (size, 8 bits per channel, colour
    type 2 = RGB), one ``IDAT`` chunk holding the zlib-compressed rows, each row prefixed by its
    filter type, and ``IEND``. Every row uses filter type 0 (none) and zlib level 1: a widget's
    figure (flat colours, thin lines) compresses about as small as with PIL's adaptive row filters
    at level 1, in half the time; the pixels are the same.
    """
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"rgb must be a uint8 array of shape (height, width, 3), got {rgb.dtype} {rgb.shape}")
    height, width, _ = rgb.shape
    rows = np.zeros((height, 1 + 3 * width), np.uint8)  # column 0: each row's filter type, 0
    rows[:, 1:].reshape(height, width, 3)[...] = rgb  # into a view of the rows: one copy of the pixels, not two
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, RGB, deflate, no filter, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(rows, 1)) + _png_chunk(b"IEND", b""))


class FigureWidget:
    """Controls + one figure, redrawn in place on every change.

    Parameters
    ----------
    controls : mapping of name -> ipywidgets value widget
        Each control's ``value`` is passed to :meth:`update` under its name.
    figsize : (width, height) in inches
    dpi : resolution of the PNG shown
    """

    #: How many static backgrounds a widget keeps (each a copy of the canvas, about 1 MB).
    BACKGROUNDS = 8

    def __init__(self, controls: Mapping[str, widgets.ValueWidget], figsize=(8.0, 3.4), dpi=80):
        self.controls = dict(controls)
        self._animated = []
        self._background = None  # the static background shown; None: draw the whole figure next time
        self._backgrounds = {}   # static backgrounds drawn so far, by _static_key()
        self._key = None
        with matplotlib.rc_context(plotting.STYLE):
            self.fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
            FigureCanvasAgg(self.fig)
            self.draw_initial(self.fig)
            self.update(**self.values)  # titles and labels exist before the layout is fixed
            self.fig.canvas.draw()  # lay out once, then freeze the layout: updates must not move axes
            self.fig.set_layout_engine("none")
            # that drawing left the animated artists out: it is the first state's background
            self._background = self._backgrounds[self._static_key()] = self.fig.canvas.copy_from_bbox(self.fig.bbox)
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self._holding = False
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        # Controls keep their whole label and a usable width, and wrap onto more rows when the
        # page is narrow (a phone), instead of being squeezed into one line.
        for name, control in self.controls.items():
            _check_on_grid(name, control)
            control.layout.width = CONTROL_WIDTH
            control.style.description_width = "initial"
        row = widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([row, self.image])
        with matplotlib.rc_context(plotting.STYLE):
            for show in self.backgrounds_ahead():
                show()
                self._render(self._static_key())
        self.redraw()

    # --- to be provided by subclasses -----------------------------------------------------
    def draw_initial(self, fig: Figure) -> None:
        """Create the axes and artists once."""
        raise NotImplementedError

    def update(self, **values) -> None:
        """Move the artists to show ``values`` (one entry per control)."""
        raise NotImplementedError

    def background_key(self):
        """What the static (not animated) part of the figure shows, apart from the axes' limits: a
        hashable key. Two states with the same key and limits must have the same static pixels,
        since the background drawn for one is reused for the other. ``None`` here: a subclass
        whose :meth:`update` changes a static artist (which surface's contours are visible, say)
        returns what decides it (the surface's name)."""
        return None

    def backgrounds_ahead(self):
        """Static states whose backgrounds are drawn at construction, so that the first switch to
        each is as fast as an update: zero-argument functions, each setting the static artists to
        one state. None here; a widget with a menu of surfaces returns one per surface."""
        return ()

    # --- shared machinery ----------------------------------------------------------------
    def animate(self, artist):
        """Mark ``artist`` as one that updates move; returns it (for ``self.line = self.animate(...)``)."""
        artist.set_animated(True)
        self._animated.append(artist)
        return artist

    @property
    def values(self) -> dict:
        """The controls' current values, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values) -> None:
        """Set several controls at once (one redraw), as a reader moving them would."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; this widget has {sorted(self.controls)}")
        self._holding = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._holding = False
        self.redraw()

    def redraw(self) -> None:
        """Recompute, move the artists and refresh the PNG."""
        with matplotlib.rc_context(plotting.STYLE):
            self.update(**self.values)
            self._render(self._static_key())
        self.image.value = self._encode()

    def _static_key(self):
        return self.background_key(), tuple((ax.get_xlim(), ax.get_ylim()) for ax in self.fig.axes)

    def _render(self, key) -> bool:
        """Draw the figure into the canvas: the static background of the state ``key`` (drawn in
        full and kept if it is new, or if ``_background`` was reset), then the animated artists
        over it. Returns whether the whole figure was drawn."""
        canvas = self.fig.canvas
        full = self._background is None or key not in self._backgrounds
        if full:
            canvas.draw()  # the static part, animated artists left out
            self._backgrounds.pop(key, None)
            if len(self._backgrounds) >= self.BACKGROUNDS:
                del self._backgrounds[next(iter(self._backgrounds))]  # the oldest
            self._backgrounds[key] = canvas.copy_from_bbox(self.fig.bbox)
        self._background, self._key = self._backgrounds[key], key
        if not full:
            canvas.restore_region(self._background)
        for artist in self._animated:
            if artist.get_visible():
                self.fig.draw_artist(artist)
        return full

    def _encode(self) -> bytes:
        """The canvas as PNG (its RGB channels: the figure is opaque)."""
        return encode_png(np.asarray(self.fig.canvas.buffer_rgba())[..., :3])

    def _on_change(self, change) -> None:
        if not self._holding:
            self.redraw()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


class RaceWidget(FigureWidget):
    """Several optimizers racing from one start on a choice of 2-D surfaces: the paths on the
    surface's contours (left) and the loss curves (right, log scale when the losses are positive).

    Subclasses set ``self.surfaces`` (name -> spec: ``surface``, start ``x0``, ``steps``, limits
    ``xlim``/``ylim``/``loss_ylim``, contour ``levels``, largest curvature ``L``) and ``METHOD_COLORS``
    (method -> colour) before calling ``__init__`` with a ``"surface"`` control among the others, and
    provide :meth:`race` (the runs to draw) and :meth:`title`.
    """

    METHOD_COLORS: dict = {}

    def race(self, spec: dict, **values) -> dict:
        """``{method: surfaces.Run}`` for the surface ``spec`` and the other controls' ``values``."""
        raise NotImplementedError

    def title(self, spec: dict, runs: dict, **values) -> str:
        raise NotImplementedError

    def draw_initial(self, fig):
        self._shown = None  # the surface whose static part is set up
        self.ax_path, self.ax_loss = fig.subplots(1, 2, width_ratios=[1.1, 1])
        self.contours = {}
        for name, spec in self.surfaces.items():  # all drawn once; an update shows the chosen one
            X, Y, Z = spec["surface"].grid(spec["xlim"], spec["ylim"], 121)
            self.contours[name] = self.ax_path.contour(X, Y, Z, levels=spec["levels"],
                                                       colors=plotting.COLORS["data"], linewidths=0.6)
        marker = dict(color=plotting.COLORS["reference"], linestyle="none")
        self.minimum = self.ax_path.plot([], [], "*", markersize=10, label="minimum", **marker)[0]
        self.start = self.ax_path.plot([], [], "o", markersize=4, **marker)[0]
        self.paths, self.losses = {}, {}
        for name, color in self.METHOD_COLORS.items():
            self.paths[name] = self.animate(self.ax_path.plot([], [], color=color, linewidth=1.2)[0])
            self.losses[name] = self.animate(self.ax_loss.plot([], [], color=color, label=name)[0])
        self.ax_path.set(xlabel=r"$\theta_1$", ylabel=r"$\theta_2$")
        self.ax_loss.set(xlabel="step $t$", ylabel=r"loss $J(\theta_t)$")
        self.ax_loss.legend(loc="lower left", ncols=2, fontsize=8)
        self.animate(self.ax_path.title)

    def show_surface(self, surface):
        """The static part for ``surface``: its contours, minimum, start and the axes' limits."""
        spec = self.surfaces[surface]
        for name, contour in self.contours.items():
            contour.set_visible(name == surface)
        self.minimum.set_data([spec["surface"].minimum[0]], [spec["surface"].minimum[1]])
        self.start.set_data([spec["x0"][0]], [spec["x0"][1]])
        self.ax_path.set(xlim=spec["xlim"], ylim=spec["ylim"])
        self.ax_loss.set_yscale("log" if spec["loss_ylim"][0] > 0 else "linear")
        self.ax_loss.set(xlim=(0, spec["steps"]), ylim=spec["loss_ylim"])
        self._shown = surface

    def background_key(self):
        return self._shown

    def backgrounds_ahead(self):
        return [functools.partial(self.show_surface, name) for name in self.surfaces]

    def update(self, surface, **values):
        spec = self.surfaces[surface]
        if surface != self._shown:
            self.show_surface(surface)
        self.runs = self.race(spec, **values)
        steps = np.arange(spec["steps"] + 1)
        for name, run in self.runs.items():
            self.paths[name].set_data(run.params[:, 0], run.params[:, 1])
            self.losses[name].set_data(steps, run.losses)
        self.ax_path.set_title(self.title(spec, self.runs, **values))  # the animated (centre) title

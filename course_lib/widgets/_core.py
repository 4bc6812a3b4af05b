"""The shape every widget of the book shares.

A :class:`FigureWidget` owns one matplotlib figure (object-oriented API, no pyplot state), a row
of ipywidgets controls and an ``ipywidgets.Image`` that shows the figure as PNG. Subclasses
build their artists once in :meth:`draw_initial` and move them in :meth:`update`
(``set_data``, ``set_ydata``, ``set_height``...); no figure is created per slider move. The
numbers come from tested course_lib functions: the widget only draws.

Speed: artists that change are *animated* (``self.animate(artist)``): the static rest of the
figure (axes, ticks, data points) is rendered once and cached; each update restores that
background and draws only the moving artists (blitting), then encodes the PNG with fast
compression. When an update changes an axis' limits the whole figure is re-rendered.

Because the PNG lives in the Image widget's state, a notebook executed with the widget state
stored (``make notebooks``) shows each widget's default figure on the static website.

Tests and benchmarks drive a widget from code::

    w = EWMASeriesWidget()
    w.set(rho=0.95)            # same path as moving the slider
    w.lines["ewma"].get_ydata()  # what the reader now sees
"""
from __future__ import annotations

import io
from typing import Mapping

import numpy as np
from PIL import Image as PILImage

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


class FigureWidget:
    """Controls + one figure, redrawn in place on every change.

    Parameters
    ----------
    controls : mapping of name -> ipywidgets value widget
        Each control's ``value`` is passed to :meth:`update` under its name.
    figsize : (width, height) in inches
    dpi : resolution of the PNG shown
    """

    def __init__(self, controls: Mapping[str, widgets.ValueWidget], figsize=(8.0, 3.4), dpi=80):
        self.controls = dict(controls)
        self._animated = []
        self._background = None
        with matplotlib.rc_context(plotting.STYLE):
            self.fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
            FigureCanvasAgg(self.fig)
            self.draw_initial(self.fig)
            self.update(**self.values)  # titles and labels exist before the layout is fixed
            self.fig.canvas.draw()  # lay out once, then freeze the layout: updates must not move axes
            self.fig.set_layout_engine("none")
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
        self.redraw()

    # --- to be provided by subclasses -----------------------------------------------------
    def draw_initial(self, fig: Figure) -> None:
        """Create the axes and artists once."""
        raise NotImplementedError

    def update(self, **values) -> None:
        """Move the artists to show ``values`` (one entry per control)."""
        raise NotImplementedError

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
        canvas = self.fig.canvas
        with matplotlib.rc_context(plotting.STYLE):
            limits = self._limits()
            self.update(**self.values)
            if self._background is None or self._limits() != limits:
                canvas.draw()  # the static part, animated artists left out
                self._background = canvas.copy_from_bbox(self.fig.bbox)
            else:
                canvas.restore_region(self._background)
            for artist in self._animated:
                if artist.get_visible():
                    self.fig.draw_artist(artist)
        rgba = np.asarray(canvas.buffer_rgba())
        buffer = io.BytesIO()
        PILImage.fromarray(rgba[..., :3]).save(buffer, format="png", compress_level=1)
        self.image.value = buffer.getvalue()

    def _limits(self):
        return [(ax.get_xlim(), ax.get_ylim()) for ax in self.fig.axes]

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

    def update(self, surface, **values):
        spec = self.surfaces[surface]
        for name, contour in self.contours.items():
            contour.set_visible(name == surface)
        self.minimum.set_data([spec["surface"].minimum[0]], [spec["surface"].minimum[1]])
        self.start.set_data([spec["x0"][0]], [spec["x0"][1]])
        self.runs = self.race(spec, **values)
        steps = np.arange(spec["steps"] + 1)
        for name, run in self.runs.items():
            self.paths[name].set_data(run.params[:, 0], run.params[:, 1])
            self.losses[name].set_data(steps, run.losses)
        self.ax_path.set(xlim=spec["xlim"], ylim=spec["ylim"])
        self.ax_loss.set_yscale("log" if spec["loss_ylim"][0] > 0 else "linear")
        self.ax_loss.set(xlim=(0, spec["steps"]), ylim=spec["loss_ylim"])
        self.ax_path.set_title(self.title(spec, self.runs, **values))  # the animated (centre) title

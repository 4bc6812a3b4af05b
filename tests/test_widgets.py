"""Every widget of the book: built and driven from code, drawing what course_lib computes.

The generic tests discover every FigureWidget subclass in course_lib.widgets, so a chapter's new
widget is tested as soon as it exists: it must build with its defaults, and moving any one
control must change the picture.
"""
import importlib
import inspect
import io
import pkgutil

import ipywidgets
import numpy as np
import pytest
from PIL import Image as PILImage

import course_lib.widgets
from course_lib.widgets import FigureWidget
from course_lib.widgets._core import encode_png
from course_lib.widgets.ewma import EWMASeriesWidget, WeightKernelWidget

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def all_widget_classes():
    classes = []
    for module_info in pkgutil.iter_modules(course_lib.widgets.__path__):
        if module_info.name.startswith("_"):  # the shared machinery and base classes
            continue
        module = importlib.import_module(f"course_lib.widgets.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, FigureWidget) and cls is not FigureWidget and cls.__module__ == module.__name__:
                classes.append(cls)
    return classes


def another_value(control):
    """A valid value different from the control's current one."""
    if isinstance(control, ipywidgets.Checkbox) or isinstance(control, ipywidgets.ToggleButton):
        return not control.value
    if hasattr(control, "options") and control.options:
        values = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return next(v for v in values if v != control.value)
    if hasattr(control, "min") and hasattr(control, "max"):
        return control.max if control.value != control.max else control.min
    raise AssertionError(f"no rule to move a {type(control).__name__}")


def range_of_values(control):
    """Both ends of a control's range and a few values between (on a slider's grid), or every option."""
    if isinstance(control, (ipywidgets.Checkbox, ipywidgets.ToggleButton)):
        return [False, True]
    if hasattr(control, "options") and control.options:
        return [o[1] if isinstance(o, tuple) else o for o in control.options]
    n = int(round((control.max - control.min) / control.step))
    ks = sorted({0, n // 4, n // 2, (3 * n) // 4, n})
    if isinstance(control, ipywidgets.FloatLogSlider):
        return [control.base ** (control.min + k * control.step) for k in ks]
    if isinstance(control, ipywidgets.IntSlider):
        return [control.min + k * control.step for k in ks]
    return [min(control.min + k * control.step, control.max) for k in ks]


WIDGETS = all_widget_classes()


def test_the_ewma_widgets_are_discovered():
    assert {EWMASeriesWidget, WeightKernelWidget} <= set(WIDGETS)


@pytest.mark.parametrize("cls", WIDGETS, ids=lambda c: c.__name__)
def test_widget_builds_and_every_control_changes_the_figure(cls):
    widget = cls()
    assert bytes(widget.image.value).startswith(PNG_SIGNATURE)
    assert isinstance(widget.widget, ipywidgets.VBox)
    assert len(widget.fig.axes) >= 1
    for name, control in widget.controls.items():
        before = bytes(widget.image.value)
        widget.set(**{name: another_value(control)})
        assert bytes(widget.image.value) != before, f"moving {name!r} did not change the figure"


@pytest.mark.parametrize("cls", WIDGETS, ids=lambda c: c.__name__)
def test_every_control_at_both_ends_and_between_draws_a_changed_figure(cls):
    """Each control in turn, the others at their defaults: no value of its range may raise, and
    every value other than the default must show another figure."""
    widget = cls()
    defaults, default_figure = widget.values, bytes(widget.image.value)
    for name, control in widget.controls.items():
        for value in range_of_values(control):
            widget.set(**{name: value})
            if value != defaults[name]:
                assert bytes(widget.image.value) != default_figure, f"{name} = {value!r} shows the default figure"
        widget.set(**{name: defaults[name]})
        assert bytes(widget.image.value) == default_figure, f"back at the default {name}, the figure differs"


@pytest.mark.parametrize("cls", WIDGETS, ids=lambda c: c.__name__)
def test_a_slider_event_redraws_like_set(cls):
    widget = cls()
    name, control = next(iter(widget.controls.items()))
    control.value = another_value(control)  # what the browser does
    via_event = bytes(widget.image.value)
    widget.redraw()
    assert bytes(widget.image.value) == via_event


def test_set_rejects_unknown_controls():
    with pytest.raises(ValueError, match="unknown control"):
        EWMASeriesWidget().set(beta=0.5)


def test_default_figure_is_deterministic():
    assert bytes(EWMASeriesWidget().image.value) == bytes(EWMASeriesWidget().image.value)


@pytest.mark.parametrize("cls", WIDGETS, ids=lambda c: c.__name__)
def test_blitted_updates_show_what_a_full_redraw_shows(cls):
    """The fast path redraws only the animated artists over a cached background. If an update
    changed an artist that is not animated (a title set with loc="left", say), the picture would
    be stale: compare every move with a full re-render of the same state."""
    widget = cls()
    for name, control in widget.controls.items():
        widget.set(**{name: another_value(control)})
        blitted = bytes(widget.image.value)
        widget._background = None  # forces the full render on the next redraw
        widget.redraw()
        assert bytes(widget.image.value) == blitted, f"moving {name!r} left part of the figure stale"


@pytest.mark.parametrize("cls", WIDGETS, ids=lambda c: c.__name__)
def test_a_kept_background_shows_what_a_full_redraw_shows(cls):
    """A state's static background is kept and reused when the reader comes back to it (another
    surface and back, say), or drawn ahead at construction: after a first pass over every
    control's range, a second pass must show, at every value, what a full re-render shows."""
    widget = cls()
    defaults = widget.values
    for name, control in widget.controls.items():
        for value in range_of_values(control):  # first pass: each state's background drawn (or drawn ahead)
            widget.set(**{name: value})
        for value in range_of_values(control):  # second pass: kept backgrounds reused
            widget.set(**{name: value})
            reused = bytes(widget.image.value)
            widget._background = None
            widget.redraw()
            assert bytes(widget.image.value) == reused, f"{name} = {value!r}: a kept background is stale"
        widget.set(**{name: defaults[name]})


def test_kept_backgrounds_are_bounded_and_a_dropped_one_is_drawn_again():
    class MovingLimit(FigureWidget):
        def draw_initial(self, fig):
            self.ax = fig.add_subplot()

        def update(self, top):
            self.ax.set_ylim(0, top)  # every value a new static background

    widget = MovingLimit({"top": ipywidgets.IntSlider(value=1, min=1, max=20)})
    first = bytes(widget.image.value)
    for top in range(2, 21):
        widget.set(top=top)
    assert len(widget._backgrounds) == widget.BACKGROUNDS
    widget.set(top=1)  # its background was dropped long ago
    assert bytes(widget.image.value) == first


def test_a_slider_value_off_its_grid_is_rejected():
    class OffGrid(FigureWidget):
        def draw_initial(self, fig):
            fig.add_subplot()

        def update(self, lr):
            pass

    with pytest.raises(ValueError, match="control 'lr': value 1.5 is not on the slider's grid"):
        OffGrid({"lr": ipywidgets.FloatLogSlider(value=1.5, base=10, min=-4, max=0.5, step=0.05)})
    OffGrid({"lr": ipywidgets.FloatLogSlider(value=10**0.15, base=10, min=-4, max=0.5, step=0.05)})


def test_encode_png_writes_a_png_of_exactly_the_pixels():
    """The direct zlib encoder against an independent decoder (PIL): same size, mode and pixels,
    for random pixels (incompressible) and for a widget's figure."""
    rng = np.random.default_rng(0)
    widget = EWMASeriesWidget()
    for rgb in (rng.integers(0, 256, size=(7, 13, 3), dtype=np.uint8),
                np.asarray(widget.fig.canvas.buffer_rgba())[..., :3]):
        data = encode_png(rgb)
        assert data.startswith(PNG_SIGNATURE)
        image = PILImage.open(io.BytesIO(data))
        image.load()  # decodes every row and checks the chunks' CRCs
        assert image.mode == "RGB" and image.size == (rgb.shape[1], rgb.shape[0])
        np.testing.assert_array_equal(np.asarray(image), rgb)
    assert bytes(widget.image.value) == encode_png(np.asarray(widget.fig.canvas.buffer_rgba())[..., :3])


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 4), np.uint8), np.zeros((4, 4, 3)), np.zeros((4, 12), np.uint8)])
def test_encode_png_rejects_what_is_not_an_rgb_image(bad):
    with pytest.raises(ValueError, match="rgb must be a uint8 array of shape"):
        encode_png(bad)

"""Interactive figures for the chapters. Each widget computes with course_lib and only draws.

``from course_lib.widgets.ewma import EWMASeriesWidget`` etc.; the shared machinery is
:class:`course_lib.widgets._core.FigureWidget`.
"""
from course_lib.widgets._core import FigureWidget

__all__ = ["FigureWidget"]

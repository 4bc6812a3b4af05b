"""course_lib.plotting: in a Jupyter kernel, use_book_style() stores each figure as an SVG (what the
website shows) and, while outputs are stored for others (tools/execute_notebooks.py), a PNG at the
style's dpi (what Jupyter shows an untrusted notebook), both free of dates and versions, so two
runs store the same bytes. In a reader's own kernel only the SVG is drawn."""
import base64
import io
import re

import nbformat
from nbclient import NotebookClient
from PIL import Image

from course_lib import plotting

CELLS = [
    "import matplotlib.pyplot as plt\nimport numpy as np\nfrom course_lib.plotting import use_book_style\n"
    "use_book_style()",
    "fig, axes = plt.subplots(1, 2, figsize=(6, 2.5))\naxes[0].plot(np.linspace(0, 1, 50) ** 2, label='a')\n"
    "axes[0].legend()\naxes[1].imshow(np.arange(64.0).reshape(8, 8))\nplt.show()",
]


def stored_figure():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    (figure,) = [o for o in notebook.cells[1].outputs if o.output_type == "display_data"]
    return figure


def test_figures_are_stored_as_svg_and_png_without_dates_or_versions(monkeypatch):
    monkeypatch.setenv(plotting.STORING_OUTPUTS, "1")  # as tools/execute_notebooks.py runs the kernel
    first, second = stored_figure(), stored_figure()
    assert set(first.data) == {"image/svg+xml", "image/png", "text/plain"}
    svg, png = first.data["image/svg+xml"], base64.b64decode(first.data["image/png"])
    assert "<dc:date>" not in svg and "Matplotlib" not in svg, "the SVG names a date or matplotlib's version"
    assert b"Matplotlib" not in png and b"Software" not in png, "the PNG names matplotlib's version"
    assert first.data == second.data, "two runs stored different figures"

    # The PNG is 1x at the style's dpi; the SVG is 6 x 2.5 in (cropped: at most that) in points,
    # and the picture inside it (imshow) has twice the pixels of its size at that dpi.
    dpi = plotting.STYLE["figure.dpi"]
    width_px = Image.open(io.BytesIO(png)).size[0]
    width_pt = float(re.search(r'<svg [^>]*width="([\d.]+)pt"', svg).group(1))
    assert width_px <= 6 * dpi and abs(width_pt * dpi / 72 - width_px) <= 2, (width_pt, width_px)
    image = re.search(r"<image ([^>]*)>", svg).group(1)
    data = re.search(r'href="data:image/png;base64,\s*([^"]+)"', image).group(1)
    pixels = Image.open(io.BytesIO(base64.b64decode(data))).size[0]
    width_pt = float(re.search(r'\bwidth="([\d.]+)"', image).group(1))
    assert pixels >= 2 * width_pt * dpi / 72 - 2, "the image inside the SVG is not at 2x"


def test_a_readers_own_kernel_draws_only_the_svg(monkeypatch):
    monkeypatch.delenv(plotting.STORING_OUTPUTS, raising=False)
    figure = stored_figure()
    assert set(figure.data) == {"image/svg+xml", "text/plain"}
    assert figure.data["image/svg+xml"].lstrip().startswith("<?xml")


def test_outside_a_kernel_use_book_style_only_sets_the_style():
    """In a script (no IPython kernel) there are no display formatters to set: no error."""
    import matplotlib
    with matplotlib.rc_context():
        plotting.use_book_style()
        assert matplotlib.rcParams["figure.dpi"] == plotting.STYLE["figure.dpi"]
        assert matplotlib.rcParams["svg.hashsalt"] == "course_lib"

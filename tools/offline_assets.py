"""Sphinx extension: the website serves its own scripts and fonts, and asks no other host.

Sphinx, MyST-NB and the theme load three things from CDNs by default:

- MathJax 3 (``mathjax_path``, from jsdelivr),
- RequireJS and the Jupyter widget HTML manager (``nb_ipywidgets_js``, from cdnjs
  and jsdelivr), which render the widgets' saved state on the pages of notebooks.

This extension points both settings at copies under ``_static/vendor/`` and copies
them there from ``node_modules/``, which ``npm ci`` fills from the exact versions
pinned in ``package.json`` / ``package-lock.json`` (``make assets`` does it; ``make
book`` and ``make test`` depend on it). Everything else the theme uses (Font Awesome,
its fonts, the search index) is already shipped inside the PyPI packages.

The HTML manager (``embed-amd.js``) bundles the widget models of ipywidgets 8
(``@jupyter-widgets/base``, ``controls`` and ``output``); it would go to a CDN only
for a third-party widget package, and the book uses none (tests/test_site_offline.py
checks every notebook's saved widget state for that).

On a page opened from a file (a downloaded copy), search shows its results without the
summaries it would fetch from the other pages (browsers forbid that fetch). And one line
of CSS lets long identifiers wrap on a phone instead of pushing the page sideways.

It also decides the launch buttons: Jupyter Book fills in its own repository
(executablebooks/jupyter-book) when ``_config.yml`` names none, so the Binder and
Colab buttons of ``launch_buttons`` are switched off unless ``repository.url`` names
this book's repository.

The rest of what a reader meets:

- widgets: on a page whose widgets are all ``FigureWidget``s, the book's own small script
  (``book/_static/book-widgets.js``, states drawn by ``tools/widget_states.py``) replaces the
  widget manager; elsewhere the manager's scripts are deferred;
- icons: the dozen the pages use, as CSS (``tools/site_icons.py``), instead of the theme's
  1.5 MB ``fontawesome.js``; the sidebar buttons a reader sees work (``book-nav.js``);
- figures (SVGs, course_lib.plotting.FIGURE_FORMATS) get their caption as alternative text,
  their size at 1x, lazy loading, and on a phone a width under which they do not shrink (they
  scroll sideways in their box instead, book-figures.js says so); nbgrader's solution markers
  are cut from the site's code; search ranks the pages before the reference's entries;
- math: ``book-math.js`` has MathJax typeset the formulas on screen first and the others in
  batches while the page is idle (its start-up typesetting is off, ``mathjax3_config`` in
  ``_config.yml``), so that a chapter's 300-500 formulas no longer hold its first view back.

Registered in ``_config.yml`` under ``sphinx.local_extensions``.
"""

import html
import json
import math
import re
import shutil
import sys
import unicodedata
from pathlib import Path

from sphinx.builders.html._assets import _JavaScript
from sphinx.errors import ExtensionError
from sphinx.util import logging

sys.path.insert(0, str(Path(__file__).resolve().parent))
import site_icons  # noqa: E402  (tools/site_icons.py, next to this file)
import widget_states  # noqa: E402  (tools/widget_states.py)

LOGGER = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
STATIC = ROOT / "book" / "_static"  # the site's own scripts and styles (book-widgets.js, ...)

# What is copied, as {destination under _static/vendor: (package folder, globs)}.
# Each package.json goes along: it names the version and the license.
VENDOR = {
    # tex-mml-chtml.js is the combined file Sphinx uses by default; the folders hold
    # the components and fonts it loads on demand (TeX extensions, menu, a11y).
    "mathjax": ("mathjax", ["LICENSE", "package.json", "es5/tex-mml-chtml.js", "es5/a11y/**/*",
                            "es5/adaptors/**/*", "es5/input/**/*", "es5/output/**/*",
                            "es5/sre/**/*", "es5/ui/**/*"]),
    "requirejs": ("requirejs", ["package.json", "require.js"]),
    # embed-amd.js finds its fonts (Font Awesome) next to itself.
    "html-manager": ("@jupyter-widgets/html-manager",
                     ["package.json", "dist/embed-amd.js", "dist/*.woff2", "dist/*.woff",
                      "dist/*.ttf", "dist/*.eot", "dist/*.svg"]),
}

MATHJAX_PATH = "vendor/mathjax/es5/tex-mml-chtml.js"
IPYWIDGETS_JS = {
    # Same order as MyST-NB's default: RequireJS first, then the manager; no `crossorigin`
    # attribute, which would block the scripts of a page opened from a file.
    "vendor/requirejs/require.js": {},
    "vendor/html-manager/setup.js": {},
    "vendor/html-manager/dist/embed-amd.js": {},
}

# embed-amd.js takes the folder of its fonts from the AMD module's URL as origin + path,
# which is "null/..." on a page opened from a file; its bundles then honour
# window.__jupyter_widgets_assets_path__, but only after their styles asked for the fonts.
# The copy is patched to honour it first (setup.js sets it). Each bundle has one such line.
PUBLIC_PATH = re.compile(r"([\w$]+)\.p=`\$\{([\w$]+)\.origin\}\$\{\2\.pathname\}`")
PUBLIC_PATH_PATCHED = r"\1.p=window.__jupyter_widgets_assets_path__||`${\2.origin}${\2.pathname}`"


def patch_embed_amd(source):
    """Return embed-amd.js with its public path taken from the global set by setup.js."""
    patched, count = PUBLIC_PATH.subn(PUBLIC_PATH_PATCHED, source)
    if count == 0:
        raise ExtensionError("offline_assets: embed-amd.js no longer sets its public path "
                             "as expected; check the font paths of the widgets")
    return patched


# Written to _static/vendor/html-manager/setup.js; runs just before embed-amd.js.
WIDGETS_SETUP_JS = """\
// Set up the Jupyter widget HTML manager (embed-amd.js, next to this file) for this site.
(function () {
  // 1. embed-amd.js loads its fonts from this folder, also from a page opened as a file.
  window.__jupyter_widgets_assets_path__ = document.currentScript.src.replace(/[^/]*$/, "dist/");
  // 2. ipywidgets 8 typesets widget labels with the MathJax 2 call MathJax.Hub.Queue;
  //    the book loads MathJax 3 (deferred), so give it that call once MathJax is there.
  document.addEventListener("DOMContentLoaded", function () {
    var mathjax = window.MathJax;
    if (mathjax && mathjax.startup && !mathjax.Hub) {
      mathjax.Hub = {Queue: function (job) {  // job = ["Typeset", MathJax.Hub, element]
        mathjax.startup.promise = mathjax.startup.promise.then(function () {
          return mathjax.typesetPromise([job[2]]);
        });
      }};
    }
  });
})();
"""

JUPYTER_BOOK_DEFAULT_REPOSITORY = "https://github.com/executablebooks/jupyter-book"
LAUNCH_URL_KEYS = ("binderhub_url", "colab_url", "jupyterhub_url", "deepnote_url")


def vendored_files(node_modules=NODE_MODULES):
    """Return {relative destination path: source path} of every file to serve."""
    files = {}
    for destination, (package, patterns) in VENDOR.items():
        folder = Path(node_modules) / package
        if not folder.is_dir():
            raise ExtensionError(
                f"offline_assets: {folder} is missing; run `make assets` "
                "(npm ci) to install the pinned browser assets")
        for pattern in patterns:
            matches = [p for p in folder.glob(pattern) if p.is_file()]
            if not matches:
                raise ExtensionError(
                    f"offline_assets: nothing matches {package}/{pattern}; "
                    "was package.json changed without updating this list?")
            for path in matches:
                files[f"{destination}/{path.relative_to(folder).as_posix()}"] = path
    return files


def launch_buttons_enabled(repository_url):
    """True when ``repository.url`` names this book's repository (not Jupyter Book's default)."""
    url = (repository_url or "").strip().rstrip("/")
    return bool(url) and url != JUPYTER_BOOK_DEFAULT_REPOSITORY


def configure(app, config):
    """Point MathJax and the widget scripts at the local copies; decide the launch buttons."""
    config.mathjax_path = MATHJAX_PATH
    config.nb_ipywidgets_js = dict(IPYWIDGETS_JS)
    # The theme logs a console error on every page when no colour mode is set;
    # "auto" (follow the reader's system) is what it falls back to anyway.
    config.html_context.setdefault("default_mode", "auto")
    config.html_search_scorer = str(STATIC / "book-search-scorer.js")

    options = config.html_theme_options
    # The footer names no author ("By The authors of this book" said nothing); the contents
    # list of a page shows its sections and their subsections (the reference's modules).
    options["footer_content_items"] = [item for item in options.get(
        "footer_content_items", ["author.html", "copyright.html", "last-updated.html", "extra-footer.html"])
        if item != "author.html"]
    options.setdefault("show_toc_level", 2)
    if not launch_buttons_enabled(options.get("repository_url")):
        buttons = dict(options.get("launch_buttons") or {})
        for key in LAUNCH_URL_KEYS:
            buttons[key] = ""
        buttons["thebe"] = False
        options["launch_buttons"] = buttons


def thebe_enabled(config):
    return bool((config.html_theme_options.get("launch_buttons") or {}).get("thebe"))


def drop_thebe_scripts(app, pagename, templatename, context, doctree):
    """Without a thebe button, leave out sphinx-thebe's scripts.

    sphinx-thebe adds its configuration script twice (a console error:
    "Identifier 'THEBE_JS_URL' has already been declared") and names a CDN copy of
    thebe; with thebe on, only the duplicate goes.
    """
    kept, bodies = [], set()
    for script in context.get("script_files", []):
        body = getattr(script, "attributes", {}).get("body", "")
        is_thebe = "THEBE_JS_URL" in body or str(getattr(script, "filename", script)).endswith("sphinx-thebe.js")
        if is_thebe and (not thebe_enabled(app.config) or (body and body in bodies)):
            continue
        bodies.add(body)
        kept.append(script)
    context["script_files"] = kept


# --- widgets that respond without a kernel (tools/widget_states.py) -------------------------
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = re.compile(r'<script type="application/vnd\.jupyter\.widget-view\+json">'
                         r'\s*(\{.*?\})\s*</script>', re.S)
MANAGER_SCRIPTS = tuple(IPYWIDGETS_JS)
STATES_DIR = "_static/widget-states"


def widget_pages(app, pagename, templatename, context, doctree):
    """On a page whose widgets are all FigureWidgets: the book's own widgets (controls + saved
    figure, precomputed states) replace the 3.6 MB widget manager. Elsewhere the manager stays,
    deferred so the text and math come first."""
    scripts = context.get("script_files", [])
    state_script = next((s for s in scripts if s.attributes.get("type") == WIDGET_STATE_MIME), None)
    if state_script is None:
        return
    state = json.loads(state_script.attributes["body"])
    body = context["body"]
    views = [json.loads(m.group(1))["model_id"] for m in WIDGET_VIEW.finditer(body)]
    specs = {model_id: widget_states.parse_view(state["state"], model_id) for model_id in views}
    if not views or None in specs.values():
        context["script_files"] = [
            _JavaScript(s.filename, priority=s.priority, **{**s.attributes, "defer": "defer"})
            if str(s.filename).endswith(MANAGER_SCRIPTS) else s for s in scripts]
        return
    root = "../" * pagename.count("/")
    jobs = app.env.book_widget_jobs = getattr(app.env, "book_widget_jobs", [])

    def replace(match):
        model_id = json.loads(match.group(1))["model_id"]
        spec = specs[model_id]
        widget_states.choose_grids(spec.controls)
        name = f"{pagename.replace('/', '-')}-{model_id[-6:]}"
        jobs.append((name, spec, Path(pagename).name))
        html = widget_states.widget_html(spec, name, f"{root}{STATES_DIR}/{name}.js",
                                         f"{root}{STATES_DIR}/{name}.png", widget_states.png_size(spec.png))
        return html + match.group(0)

    context["body"] = WIDGET_VIEW.sub(replace, body)
    # The saved figures now come from files; the state keeps the controls (for reference).
    for model in state["state"].values():
        model.pop("buffers", None)
    kept = [s for s in scripts if not str(s.filename).endswith(MANAGER_SCRIPTS) and s is not state_script]
    kept.append(_JavaScript(None, priority=state_script.priority, type=WIDGET_STATE_MIME,
                            body=json.dumps(state).replace("</", "<\\/")))
    kept.append(_JavaScript("_static/book-widgets.js", priority=900, defer="defer"))
    context["script_files"] = kept


def write_widget_states(app, exception):
    """Draw (or take from the cache) every widget's states; a widget that cannot be found in
    course_lib.widgets is an error: its page would show controls that do nothing."""
    if exception is not None or app.builder.format != "html":
        return
    jobs = getattr(app.env, "book_widget_jobs", [])
    target = Path(app.outdir) / STATES_DIR
    target.mkdir(parents=True, exist_ok=True)
    results = widget_states.precompute(jobs)
    for name, spec, _ in jobs:
        script, error = results[name]
        if error:
            (target / f"{name}.png").write_bytes(spec.png)
            LOGGER.warning(f"offline_assets: the widget {name} has no precomputed states: {error}")
            continue
        shutil.copyfile(script, target / f"{name}.js")
        # the figure at the saved values as the widget draws it now (equal to the saved one
        # unless the chapter needs `make notebooks`: tests/test_site_widgets.py says so)
        shutil.copyfile(script.with_suffix(".png"), target / f"{name}.png")
    app.env.book_widget_jobs = []


# nbgrader's markers belong to the notebooks (the student versions cut there), not to the
# solutions a reader unfolds on the site.
SOLUTION_MARKER = re.compile(r'\n(?:[ \t]*|<span class="w">[ \t]*</span>)'
                             r'<span class="c1">###\s*(?:BEGIN|END) SOLUTION</span>(?=\n)')


# "(exercise {ref}`ex-...`)" in a chapter renders as "(exercise Exercise 1.5)": the link text
# already says it.
DOUBLED_EXERCISE = re.compile(r'\b[Ee]xercise (<a class="reference internal"[^>]*><span class="std '
                              r'std-(?:num)?ref">Exercise )')


def strip_solution_markers(app, pagename, templatename, context, doctree):
    if "body" in context:
        context["body"] = DOUBLED_EXERCISE.sub(r"\1", SOLUTION_MARKER.sub("", context["body"]))


# Figures: the alternative text is the caption (MyST-NB writes the image's file name), and
# figures below the fold load when the reader gets there, not before the page is usable.
FIGURE = re.compile(r"<figure\b.*?</figure>", re.S)
HASHED_ALT = re.compile(r'<img alt="[^"]*_images/[0-9a-f]{16,}\.(?:png|jpg|svg)" ')
CAPTION = re.compile(r'<span class="caption-text">(.*?)</span>\s*<a class="headerlink"', re.S)

# A caption's inline TeX, read aloud: "\kappa = 50" is "κ = 50", "\sqrt\beta" is "√β".
TEX_WORDS = {"sqrt": "√", "pm": "±", "infty": "∞", "approx": "≈", "sum": "Σ", "cdot": "·", "times": "×",
             "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "to": "→", "ell": "ℓ", "varepsilon": "ε",
             "nabla": "∇", "partial": "∂", "max": "max", "min": "min", "ln": "ln", "log": "log", "exp": "exp"}
TEX_COMMAND = re.compile(r"\\([A-Za-z]+)")


def _tex_command(match):
    name = match.group(1)
    if name in TEX_WORDS:
        return TEX_WORDS[name]
    case = "CAPITAL" if name[0].isupper() else "SMALL"
    try:  # \alpha ... \omega, \Delta ... (Unicode spells lambda "lamda")
        return unicodedata.lookup(f"GREEK {case} LETTER {name.upper().replace('LAMBDA', 'LAMDA')}")
    except KeyError:
        return ""  # \rm, \mathbf, \left ...: layout, not words


def tex_to_text(text):
    """Inline TeX of a caption as plain text for ``alt``: Greek letters and the usual symbols
    as Unicode, fractions as a/b, braces and layout commands dropped."""
    text = text.replace("\\(", "").replace("\\)", "")
    text = re.sub(r"\\[td]?frac\s*(\d)\s*(\d)", r"\1/\2", text)  # \tfrac12
    text = re.sub(r"\\[td]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}",
                  lambda m: "/".join(f"({t})" if re.search(r"[-+ ]", t) else t for t in m.groups()), text)
    text = re.sub(r"\\[,;:! ]", " ", text)
    text = TEX_COMMAND.sub(_tex_command, text)
    return " ".join(text.replace("{", "").replace("}", "").split())


def caption_text(html_caption):
    text = re.sub(r"<[^>]+>", "", html_caption)
    return " ".join(html.unescape(text).split())


# Figures are stored sharp for high-density screens (course_lib.plotting.FIGURE_FORMATS): a PNG
# of twice the pixels, whose 1x size MyST-NB writes as style="width: ..px; height: ..px" (the
# fixed height would squash the figure when the column is narrower), or an SVG, whose size is in
# points. Each chapter figure gets its size at 1x as width/height (the space is reserved before it
# loads) and, in --book-min-width, the narrowest it may be shown: at that width its smallest text
# (a few legends and contour labels at 7 pt; tests/test_site_build.py checks that none is smaller)
# is MIN_TEXT_PX CSS pixels. On a phone a figure is never narrower;
# wider than the column, it scrolls sideways in its own box (SITE_CSS, book-figures.js).
MIN_TEXT_PX = 8
SMALLEST_FONT_PT = 7
IMAGE = re.compile(r'<img (?P<attrs>[^>]*?)src="(?P<src>[^"]*_images/(?P<name>[0-9a-f]{16,}\.(?:png|svg)))"'
                   r'(?P<style> style="width: (?P<w>[\d.]+)px; height: (?P<h>[\d.]+)px;")?\s*/?>')
SVG_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="([\d.]+)pt" height="([\d.]+)pt"')


def figure_dpi():
    from course_lib import plotting
    return plotting.STYLE["figure.dpi"]


def figure_size(path, dpi):
    """(width, height) in CSS pixels at 1x of a stored figure: an SVG's points at ``dpi``, a
    PNG's pixels (a PNG without size metadata is a 1x figure)."""
    if path.suffix == ".svg":
        match = SVG_SIZE.search(path.read_text(encoding="utf-8")[:2000])
        if not match:
            raise ExtensionError(f"offline_assets: {path} gives no width/height in pt")
        return tuple(round(float(v) * dpi / 72) for v in match.groups())
    from PIL import Image
    with Image.open(path) as image:
        return image.size


def sized_figure(app, match, dpi):
    """An ``<img>`` of a chapter figure with its 1x size, its narrowest readable width, lazy."""
    if match.group("w"):
        width, height = round(float(match.group("w"))), round(float(match.group("h")))
    else:
        sources = {Path(dest).name: src for src, dest in getattr(app.builder, "images", {}).items()}
        source = sources.get(match.group("name"))
        if source is None:
            return match.group(0)
        width, height = figure_size(Path(app.srcdir) / source, dpi)
    min_width = min(width, math.ceil(width * MIN_TEXT_PX / (SMALLEST_FONT_PT * dpi / 72)))
    return (f'<div class="book-figure-box"><img {match.group("attrs")}src="{match.group("src")}" '
            f'class="book-figure" loading="lazy" width="{width}" height="{height}" '
            f'style="--book-min-width: {min_width}px" /></div>')


def figure_alt_texts(app, pagename, templatename, context, doctree):
    if "body" not in context:
        return

    def in_figure(match):
        block = match.group(0)
        caption = CAPTION.search(block)
        if caption:
            alt = html.escape(tex_to_text(caption_text(caption.group(1))), quote=True)
            block = HASHED_ALT.sub(lambda _: f'<img alt="{alt}" ', block)
        return block

    body = FIGURE.sub(in_figure, context["body"])
    body = HASHED_ALT.sub('<img alt="Figure drawn by the code cell above" ', body)
    dpi = figure_dpi()
    context["body"] = IMAGE.sub(lambda m: sized_figure(app, m, dpi), body)


# pydata-sphinx-theme loads Sphinx's search (and its 180 kB index) on every page for the search
# dialog, in the head without `defer`: the text waited for it.
SEARCH_SCRIPTS = re.compile(r'<script src="([^"]*(?:searchtools|language_data|searchindex)\.js)"></script>')


def defer_search_scripts(outdir):
    for page in Path(outdir).rglob("*.html"):
        if page.name == "search.html":
            continue
        text = page.read_text(encoding="utf-8")
        deferred = SEARCH_SCRIPTS.sub(r'<script defer src="\1"></script>', text)
        if deferred != text:
            page.write_text(deferred, encoding="utf-8")


def check_assets(app):
    """Fail early, before reading any page, when ``npm ci`` has not been run."""
    vendored_files()


def copy_assets(app, exception):
    """Copy the vendored files into ``_static/vendor`` of the HTML output."""
    if exception is not None or app.builder.format != "html":
        return
    (Path(app.outdir) / "_static" / "book-site.css").write_text(SITE_CSS, encoding="utf-8")
    target = Path(app.outdir) / "_static" / "vendor"
    for relative, source in vendored_files().items():
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    (target / "html-manager" / "setup.js").write_text(WIDGETS_SETUP_JS, encoding="utf-8")
    embed = target / "html-manager" / "dist" / "embed-amd.js"
    embed.write_text(patch_embed_amd(embed.read_text(encoding="utf-8")), encoding="utf-8")
    for path in STATIC.iterdir():
        shutil.copyfile(path, Path(app.outdir) / "_static" / path.name)
    site_icons.replace_fontawesome(Path(app.outdir))
    defer_search_scripts(app.outdir)


# Long identifiers (course_lib.regularization.EarlyStoppingResult, tests/test_x.py::test_y)
# have no place to break: on a phone they pushed whole pages sideways. In the text they may
# break anywhere, only where they would not fit otherwise; in a table they break only between
# words ("break-word" leaves the columns their width: `anywhere` squeezed a code column to one
# letter), and a table too wide for the screen scrolls in the theme's box (the index's tables,
# one name per cell, still break anywhere). Code lines wrap
# instead of being cut off at the edge of their box; display equations scroll in theirs.
# Written to _static/book-site.css.
SITE_CSS = """\
span.pre, table.indextable td, table.indextable td a, table.modindextable td, table.modindextable td a {
  overflow-wrap: anywhere;
}
span.pre { white-space: normal; }  /* Sphinx: nowrap (inline code, signatures), which forbids any break */
.pst-scrollable-table-container table span.pre { overflow-wrap: break-word; }
div.highlight pre { white-space: pre-wrap; overflow-wrap: anywhere; }
mjx-container[display="true"] { display: block; position: relative; max-width: 100%; overflow-x: auto; overflow-y: hidden; }
.math > mjx-container { position: relative; max-width: 100%; overflow-x: auto; overflow-y: hidden; }  /* display math inside a paragraph */
#pst-header { display: none; }  /* pydata's header band: sphinx-book-theme's article header has every button */
/* The reference's hundreds of entries: the browser lays out only those near the screen. */
.bd-article section > dl.py { content-visibility: auto; contain-intrinsic-size: auto 400px; }
/* A chapter figure has its size at 1x (width/height; its file has the pixels of 2x or is vector)
   and shrinks with the column, keeping its proportions. */
img.book-figure { height: auto; }
.book-figure-box.book-scrolls::before, .book-widget-figure.book-scrolls::before {
  content: "\\21C6  Wider than the screen: scroll it sideways"; display: block; position: sticky; left: 0;
  font-size: 0.8rem; color: var(--pst-color-text-muted, #666); }
/* On a phone a figure shrinks no further than the width at which its smallest text is 8 px
   (--book-min-width; a widget's figure: book-widgets.css); wider than the column, it
   scrolls sideways in its own box, which says so (book-figures.js). So does a formula in a
   docstring too long for the line (MathJax does not break inline math). */
@media (max-width: 576px) {
  .cell_output, figure, .book-figure-box { overflow-x: auto; scrollbar-width: thin; }
  img.book-figure { max-width: max(100%, var(--book-min-width)); }
  dd mjx-container:not([display="true"]) { display: inline-block; position: relative; max-width: 100%; overflow-x: auto;
    overflow-y: hidden; vertical-align: middle; }
}
"""

# Opened from files, the browser may not fetch the pages that Sphinx's search shows as
# summaries under each result; the results themselves still work.
SEARCH_FROM_FILES_JS = ('if (location.protocol === "file:") '
                        '{ DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false; }')


def setup(app):
    app.add_js_file(None, body=SEARCH_FROM_FILES_JS)
    app.add_css_file("book-site.css")
    app.add_css_file("book-widgets.css")
    app.add_css_file("book-icons.css")
    app.add_js_file("book-nav.js", defer="defer")
    app.add_js_file("book-figures.js", defer="defer")
    app.add_js_file("book-math.js", defer="defer")
    app.connect("config-inited", configure, priority=400)
    app.connect("builder-inited", check_assets)
    app.connect("html-page-context", drop_thebe_scripts)
    app.connect("html-page-context", widget_pages, priority=900)
    app.connect("html-page-context", strip_solution_markers)
    app.connect("html-page-context", figure_alt_texts)
    app.connect("build-finished", copy_assets)
    app.connect("build-finished", write_widget_states)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

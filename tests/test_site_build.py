"""The website: `make book` builds it with warnings as errors (the fixture fails on any warning);
every table-of-contents entry becomes a page; chapters carry their widgets' state, their
exercises and hidden solutions; the references page lists the bibliography."""
import re

from test_book_structure import chapters, toc_entries


def test_every_toc_entry_is_a_page(built_site):
    for entry in toc_entries():
        assert (built_site / f"{entry}.html").is_file(), entry
    assert (built_site / "index.html").is_file()


def test_chapters_carry_widget_state_exercises_and_hidden_solutions(built_site):
    for path in chapters():
        html = (built_site / "book" / f"{path.stem}.html").read_text()
        assert "application/vnd.jupyter.widget-state+json" in html, f"{path.stem}: no widget state on the page"
        assert len(re.findall(r'class="[^"]*jupyter-widgets[^"]*"', html)) + html.count("widget-view+json") >= 2
        exercises = len(re.findall(r'class="exercise admonition', html))
        hidden = len(re.findall(r'class="solution dropdown admonition', html))
        assert exercises >= 4 and hidden >= exercises, f"{path.stem}: {exercises} exercises, {hidden} hidden solutions"


def test_references_page_lists_the_sources_and_papers(built_site):
    html = (built_site / "book" / "references.html").read_text()
    for needle in ["Whitehill", "van Gemert", "Kingma", "Robbins"]:
        assert needle in html


def test_citations_resolve(built_site):
    html = (built_site / "book" / "ewma.html").read_text()
    assert 'href="references.html#id' in html or "references.html#" in html


def test_pages_free_of_the_slips_a_reader_sees(built_site):
    """No nbgrader markers in the solutions, no "exercise Exercise 1.5", no "By The authors of
    this book" footer, figures described by their captions rather than by hashed file names."""
    problems = []
    for page in built_site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        name = page.relative_to(built_site)
        if re.search(r"###\s*(BEGIN|END) SOLUTION", html):
            problems.append(f"{name}: nbgrader solution markers shown")
        if re.search(r"\b[Ee]xercise <a [^>]*><span [^>]*>Exercise ", html):
            problems.append(f"{name}: 'exercise Exercise'")
        if "By The authors of this book" in html:
            problems.append(f"{name}: footer 'By The authors of this book'")
        hashed = re.findall(r'<img [^>]*alt="[^"]*_images/[0-9a-f]{16,}\.\w+"', html)
        if hashed:
            problems.append(f"{name}: {len(hashed)} figures whose alternative text is a file name")
    assert not problems, "\n".join(problems)


def test_bibliography_names_in_unicode_not_tex_accents(built_site):
    """An accent written in TeX ({\\'a}) gave the bibliography label [GDollarG+17]: names in
    book/references.bib are written in Unicode (Dollár), and no label shows a spelled-out accent."""
    from test_book_structure import ROOT
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    tex_names = [line.strip()[:80] for line in bib.splitlines()
                 if re.match(r"\s*(author|editor)\s*=", line) and re.search(r"\\[`'\"^~=.uvHc]", line)]
    assert not tex_names, f"write these names in Unicode: {tex_names}"
    html = (built_site / "book" / "references.html").read_text(encoding="utf-8")
    labels = re.findall(r'<span class="label"><span class="fn-bracket">\[</span>(.*?)<span', html)
    assert labels and not [label for label in labels if "Dollar" in label], labels


def chapter_figures(built_site):
    """(page, <img> attributes, image file) of every figure a chapter's code drew."""
    for page in sorted((built_site / "book").glob("*.html")):
        for tag in re.findall(r"<img [^>]*_images/[^>]*>", page.read_text(encoding="utf-8")):
            attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
            yield page.stem, attrs, (page.parent / attrs["src"]).resolve()


def test_figures_are_sharp_at_2x_and_sized_at_1x(built_site):
    """Each chapter figure is vector (an SVG; the pictures inside it have twice the pixels of their
    size) or a PNG of twice the pixels; the page gives its size at 1x, which the reader sees."""
    import base64
    import io

    from PIL import Image

    from course_lib import plotting
    dpi = plotting.STYLE["figure.dpi"]
    problems, count = [], 0
    for page, attrs, path in chapter_figures(built_site):
        count += 1
        name = f"{page}: {path.name[:12]} ({attrs.get('alt', '')[:40]})"
        if not ({"width", "height", "loading"} <= set(attrs) and "book-figure" in attrs.get("class", "")):
            problems.append(f"{name}: no 1x size or lazy loading: {sorted(attrs)}")
            continue
        width = int(attrs["width"])
        if path.suffix == ".svg":
            svg = path.read_text(encoding="utf-8")
            width_pt = float(re.search(r'<svg [^>]*width="([\d.]+)pt"', svg).group(1))
            if abs(width_pt * dpi / 72 - width) > 1:
                problems.append(f"{name}: {width} px on the page, {width_pt} pt in the SVG")
            for image in re.findall(r"<image ([^>]*)>", svg):
                data = re.search(r'href="data:image/png;base64,\s*([^"]+)"', image).group(1)
                pixels = Image.open(io.BytesIO(base64.b64decode(data))).size[0]
                shown = float(re.search(r'\bwidth="([\d.]+)"', image).group(1)) * dpi / 72
                if pixels < 2 * shown - 2:
                    problems.append(f"{name}: a picture inside has {pixels} pixels for {shown:.0f} px")
        else:
            pixels = Image.open(path).size[0]
            if pixels < 2 * width:
                problems.append(f"{name}: {pixels} pixels for {width} px (blurred on a 2x screen)")
    assert count >= 20, f"only {count} chapter figures found"
    assert not problems, "\n".join(problems)


def test_chapter_figures_use_no_font_smaller_than_the_site_assumes():
    """The site lets a figure shrink on a phone until its smallest text is 8 px, assuming no
    text under offline_assets.SMALLEST_FONT_PT in a chapter's figures (the chapters draw them in
    their cells, with the style's sizes or a fontsize=... for a legend or a contour label)."""
    import json
    import sys

    from course_lib import plotting
    from test_book_structure import ROOT
    sys.path.insert(0, str(ROOT / "tools"))
    import offline_assets
    sizes = [plotting.STYLE[k] for k in ("font.size", "axes.titlesize", "axes.labelsize", "legend.fontsize")]
    for path in chapters():
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        sizes += [(path.stem, float(s)) for s in re.findall(r"\b(?:fontsize|labelsize)\s*=\s*([\d.]+)", code)]
    small = [s for s in sizes if (s[1] if isinstance(s, tuple) else s) < offline_assets.SMALLEST_FONT_PT]
    assert not small, f"fonts under {offline_assets.SMALLEST_FONT_PT} pt: {small}"


def test_alternative_text_reads_the_captions_math_as_words(built_site):
    import sys

    from test_book_structure import ROOT
    sys.path.insert(0, str(ROOT / "tools"))
    from offline_assets import tex_to_text
    assert tex_to_text(r"\(\kappa = 50\), \(\sqrt\beta\), \(\tfrac12\lambda x^2\), \(\frac{1}{1-\beta}\)") == (
        "κ = 50, √β, 1/2λ x^2, 1/(1-β)")
    assert tex_to_text(r"\(\Delta\) and \({\rm lr} \approx \pm\infty\)") == "Δ and lr ≈ ±∞"
    tex = [f"{page}: {attrs['alt'][:80]}" for page, attrs, _ in chapter_figures(built_site)
           if re.search(r"\\[A-Za-z(]", attrs.get("alt", "")) or not attrs.get("alt")]
    assert not tex, "alternative texts with TeX or none:\n" + "\n".join(tex)


def test_figure_tags_get_their_1x_size_from_myst_nb_or_the_svg(tmp_path):
    """A 2x PNG with its 1x size in the output's metadata (MyST-NB writes a fixed width and height
    into style, which squashed it in a narrower column) and an SVG sized in points both end with
    width/height at 1x, a minimum width for phones and no fixed height."""
    import math
    import sys
    from types import SimpleNamespace

    from test_book_structure import ROOT
    sys.path.insert(0, str(ROOT / "tools"))
    import offline_assets
    name = "ab" * 32
    (tmp_path / "figure.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="720pt" height="216pt">'
                                         "</svg>", encoding="utf-8")
    app = SimpleNamespace(srcdir=str(tmp_path), builder=SimpleNamespace(images={"figure.svg": f"{name}.svg"}))
    dpi, factor = 90, offline_assets.MIN_TEXT_PX / (offline_assets.SMALLEST_FONT_PT * 90 / 72)
    png = f'<img alt="A caption" src="../_images/{name}.png" style="width: 820px; height: 316px;" />'
    svg = f'<img alt="A caption" src="../_images/{name}.svg" />'
    for tag, (width, height) in [(png, (820, 316)), (svg, (900, 270))]:
        out = offline_assets.IMAGE.sub(lambda m: offline_assets.sized_figure(app, m, dpi), tag)
        assert f'width="{width}" height="{height}"' in out and 'loading="lazy"' in out, out
        assert f"--book-min-width: {math.ceil(width * factor)}px" in out and "height: 316px" not in out, out
        assert out.startswith('<div class="book-figure-box"><img alt="A caption" '), out

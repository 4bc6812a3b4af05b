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

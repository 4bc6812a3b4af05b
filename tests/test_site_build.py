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

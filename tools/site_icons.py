"""The few Font Awesome icons the site shows, as CSS, instead of the theme's 1.5 MB icon script.

pydata-sphinx-theme loads ``_static/scripts/fontawesome.js`` (all 2,000 icons, 1.5 MB) on every
page to turn a dozen ``<i class="fa-solid fa-bars">`` into SVGs. This module reads the icons
the built pages actually use from that same file (the theme's own drawings), writes them to
``_static/book-icons.css`` as CSS masks (drawn in the text colour, no script), and takes the
script out of the pages.
"""
from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

# <i class="fa-solid fa-bars"> / <span class="fas fa-download fa-lg">: (style, names)
ICON_CLASS = re.compile(r'class="([^"]*\b(?:fa-solid|fas|fa-regular|far)\b[^"]*)"')
FONTAWESOME_TAG = re.compile(r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>')
NOT_ICONS = {"fa-solid", "fas", "fa-regular", "far", "fa-lg", "fa-xl", "fa-sm", "fa-xs", "fa-fw", "fa-2x"}
# Each pack in fontawesome.js ends with d("far", p) / d("fas", p): its icons come just before.
PACK_END = {"regular": '(function(){d("far",', "solid": '(function(){d("fas",'}


def used_icons(html_files) -> dict:
    """{icon name: "solid" or "regular"} over the given pages."""
    icons = {}
    for path in html_files:
        for classes in ICON_CLASS.findall(Path(path).read_text(encoding="utf-8")):
            names = classes.split()
            style = "regular" if {"fa-regular", "far"} & set(names) else "solid"
            for name in names:
                if name.startswith("fa-") and name not in NOT_ICONS:
                    icons[name[3:]] = style
    return icons


def icon_paths(fontawesome_js: str, icons: dict) -> dict:
    """{name: (width, height, SVG path)} read from the theme's fontawesome.js."""
    ends = {style: fontawesome_js.index(marker) for style, marker in PACK_END.items()}
    starts = {"regular": 0, "solid": ends["regular"]}
    found = {}
    for name, style in icons.items():
        pattern = re.compile(r'[{,]"?' + re.escape(name) + r'"?:\[(\d+),(\d+),\[[^\]]*\],"[^"]*","([^"]+)"\]')
        match = pattern.search(fontawesome_js, starts[style], ends[style])
        if match is None:
            raise ValueError(f"site_icons: the icon fa-{name} ({style}) is not in fontawesome.js")
        found[name] = (int(match.group(1)), int(match.group(2)), match.group(3))
    return found


def icons_css(paths: dict) -> str:
    """CSS drawing each icon as a mask in the text colour, 1em high, its own width."""
    lines = ["/* Font Awesome Free icons (CC BY 4.0), from the theme's fontawesome.js: tools/site_icons.py */",
             ".fa-solid, .fas, .fa-regular, .far { display: inline-block; height: 1em; width: 1em;"
             " vertical-align: -0.125em; background-color: currentColor;"
             " -webkit-mask: var(--book-icon) center / contain no-repeat; mask: var(--book-icon) center / contain no-repeat; }",
             ".fa-lg { font-size: 1.25em; vertical-align: -0.2em; }",
             # the theme's CSS would also draw each icon as a glyph of the 156 kB icon font
             ".fa-solid::before, .fas::before, .fa-regular::before, .far::before { content: none !important; }"]
    for name, (width, height, path) in sorted(paths.items()):
        svg = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"><path d="{path}"/></svg>'
        uri = "data:image/svg+xml," + urllib.parse.quote(svg, safe=" =:/\"<>")
        lines.append(f".fa-{name} {{ --book-icon: url('{uri}'); width: {width / height:.4g}em; }}")
    return "\n".join(lines) + "\n"


def replace_fontawesome(outdir: Path) -> int:
    """Write _static/book-icons.css and drop fontawesome.js from every page; returns the icon count."""
    outdir = Path(outdir)
    script = outdir / "_static" / "scripts" / "fontawesome.js"
    if not script.is_file():
        return 0
    pages = [p for p in outdir.rglob("*.html")]
    paths = icon_paths(script.read_text(encoding="utf-8"), used_icons(pages))
    (outdir / "_static" / "book-icons.css").write_text(icons_css(paths), encoding="utf-8")
    for page in pages:
        text = page.read_text(encoding="utf-8")
        stripped = FONTAWESOME_TAG.sub("", text)
        if stripped != text:
            page.write_text(stripped, encoding="utf-8")
    for leftover in script.parent.glob("fontawesome.js*"):
        leftover.unlink()
    return len(paths)

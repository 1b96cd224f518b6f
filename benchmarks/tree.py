"""The launch benchmark's webapp: many pages, each with a layout, code-behind and a table.

``make_tree(root, pages=500)`` writes the tree of the performance notes: every
page ``#load``s a shared layout macro file, has a code-behind ``Page`` class and
a template of 40 table rows. Pages are spread over directories of 50 so the
tree looks like a real site rather than one huge directory.

Run it directly to create a tree: ``python benchmarks/tree.py DIR [PAGES]``.
"""

from __future__ import annotations

import os
import sys

__all__ = ["ROWS", "make_tree", "page_paths"]

ROWS = 40
_PER_DIRECTORY = 50

_LAYOUT = """\
<!DOCTYPE html>
<html metal:define-macro="page" lang="en">
  <head>
    <meta charset="utf-8">
    <title>${page.title}</title>
    <link rel="stylesheet" href="/style.css">
  </head>
  <body>
    <header><h1>${page.title}</h1>
      <nav><a href="/">home</a> <a href="/dir0/page0.pspx">first page</a></nav>
    </header>
    <main metal:define-slot="content">content</main>
    <footer>generated for ${page.request.path}</footer>
  </body>
</html>
"""

_CODE_BEHIND = """\
from tincan import Page


class {name}(Page):
    def handle(self):
        self.title = "Page {number}"
        self.rows = [(i, "item %d" % i, i * {number}) for i in range(10)]
        self.total = sum(value for _, _, value in self.rows)
"""

_ROW = (
    '      <tr class="row-{row}" tal:define="r python: page.rows[{row} % len(page.rows)]">'
    '<td>{row}</td><td>${{r[1]}}</td><td tal:content="r[2]">0</td>'
    '<td tal:condition="r[2] > {row}">more</td></tr>\n'
)


def page_paths(pages: int = 500) -> list[str]:
    """Webapp-relative paths of the ``.pspx`` files ``make_tree`` writes."""
    return [f"dir{n // _PER_DIRECTORY}/page{n}.pspx" for n in range(pages)]


def _page(number: int) -> str:
    rows = "".join(_ROW.format(row=row) for row in range(ROWS))
    return (
        "#rem benchmark page\n"
        "#load <layout.pt>\n"
        '<html metal:use-macro="layout.macros[\'page\']">\n'
        '  <main metal:fill-slot="content">\n'
        f"    <p>Page {number}: ${{page.total}} in total.</p>\n"
        '    <table class="data">\n'
        f"{rows}"
        "    </table>\n"
        "  </main>\n"
        "</html>\n"
    )


def make_tree(root: str | os.PathLike[str], pages: int = 500) -> list[str]:
    """Write the benchmark webapp into ``root`` (created if missing); return its page paths."""
    root = os.fspath(root)
    os.makedirs(os.path.join(root, "WEB-INF", "tlib"), exist_ok=True)
    os.makedirs(os.path.join(root, "WEB-INF", "lib"), exist_ok=True)
    with open(os.path.join(root, "WEB-INF", "tlib", "layout.pt"), "w", encoding="utf-8") as f:
        f.write(_LAYOUT)
    with open(os.path.join(root, "style.css"), "w", encoding="utf-8") as f:
        f.write("body { font-family: sans-serif; }\n")
    paths = page_paths(pages)
    for number, relpath in enumerate(paths):
        path = os.path.join(root, *relpath.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(_page(number))
        with open(path[: -len(".pspx")] + ".py", "w", encoding="utf-8") as f:
            f.write(_CODE_BEHIND.format(name=f"Page{number}", number=number))
    return paths


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python benchmarks/tree.py DIR [PAGES]")
    created = make_tree(sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 500)
    print(f"{len(created)} pages written to {sys.argv[1]}")
